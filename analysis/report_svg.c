/*
 * The sensory profile as a standalone SVG 1.1 document: z per parameter in
 * DFNS order (qst-domain.md §1.1), positive = gain of function (§3.2), the
 * ±1.96 normal band (§3.5), PHS and DMA as verdicts (§3.6), the loss/gain
 * code (§5.1). Written with presentation attributes only (no CSS, no
 * script), so every SVG viewer and XML parser takes it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qst_report.h"
#include "report_internal.h"

#define LOG_PREFIX "report-svg: "

/* Row i must be parameter i: everything below indexes by row. */
static bool rows_in_dfns_order(const struct qst_result res[QST_PARAM_COUNT])
{
	for (int i = 0; i < QST_PARAM_COUNT; i++)
		if ((int)res[i].param != i) {
			qst_err("result row %d holds parameter code %d", i,
				(int)res[i].param);
			return false;
		}
	return true;
}

#ifndef QST_VERSION
#define QST_VERSION "?"
#endif

/* Page and plot geometry, in SVG user units (px). */
enum { W = 960, H = 640, X0 = 96, X1 = 936, Y0 = 124, Y1 = 484 };
#define Z_MAX 6.0 /* display range ±6; beyond it the mark is clipped */
#define Z_CRIT 1.96 /* §3.5 */

#define FONT "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"
#define C_LOSS "#2166ac"
#define C_GAIN "#b2182b"
#define C_NORMAL "#4d4d4d"
#define C_MUTED "#8c8c8c"
#define C_BAND "#e3eedd"

static double slot_width(void)
{
	return (double)(X1 - X0) / QST_PARAM_COUNT;
}

static double x_of(int i)
{
	return X0 + (i + 0.5) * slot_width();
}

static double y_of(double z)
{
	double zc = fmax(-Z_MAX, fmin(Z_MAX, z));
	return Y0 + (Z_MAX - zc) / (2 * Z_MAX) * (Y1 - Y0);
}

/* ----------------------------------------------------------- text out */

/*
 * Character data for XML: markup characters escaped, characters XML 1.0
 * forbids (controls, broken UTF-8) replaced, so any metadata string the
 * file holds still gives a well-formed document.
 */
void qst_xml_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		int n = qst_utf8_seq_len(p);
		if (n == 0) {
			fputs("\xef\xbf\xbd", f); /* U+FFFD */
			p++;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (*p < 0x20 && *p != '\t' && *p != '\n')
				fputc('?', f);
			else
				fwrite(p, 1, (size_t)n, f);
		}
		p += n;
	}
}

/* <text> with fixed attributes and escaped content. */
static void text_at(FILE *f, double x, double y, const char *attrs,
		    const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
	qst_xml_text(f, s);
	fputs("</text>\n", f);
}

/* z for display: 2 decimals (§10.1), a real minus sign, no "−0.00". */
static void format_z(double z, char *buf, size_t len)
{
	if (fabs(z) < 0.005)
		z = 0.0;
	snprintf(buf, len, "%s%.2f", z < 0 ? "\u2212" : "+", fabs(z));
}

/* ------------------------------------------------------------- header */

/* "2024-05-01 12:34 UTC" from ISO-8601; the raw text if it is not one. */
static void format_date(const char *iso, char *buf, size_t len)
{
	if (strlen(iso) >= 16 && iso[10] == 'T')
		snprintf(buf, len, "%.10s %.5s UTC", iso, iso + 11);
	else
		snprintf(buf, len, "%s", iso[0] ? iso : "date unknown");
}

static void subject_line(const struct qst_analysis_meta *m, char *buf,
			 size_t len)
{
	char age[24] = "age ?", date[64];
	const struct qst_subject *s = &m->subject;

	if (isfinite(s->age_years))
		snprintf(age, sizeof(age), "%.0f years", s->age_years);
	format_date(m->session_start_utc, date, sizeof(date));
	snprintf(buf, len,
		 "Subject %s \u00b7 %s, %s \u00b7 site %s%s%s \u00b7 %s \u00b7 "
		 "protocol %s",
		 m->subject_id[0] ? m->subject_id : "?",
		 s->sex == 'F' ? "female" : s->sex == 'M' ? "male" : "sex ?",
		 age, s->site[0] ? s->site : "?", m->side[0] ? ", " : "",
		 m->side, date, m->protocol_name[0] ? m->protocol_name : "?");
}

static void write_header(FILE *f, const struct qst_result *res,
			 const struct qst_analysis_meta *m)
{
	char line[512], code[8], desc[192];
	int loss, gain;
	int missing = qst_lg_code(res, &loss, &gain, code);

	text_at(f, 24, 40, "font-size=\"22\" font-weight=\"bold\"",
		"QST sensory profile");
	subject_line(m, line, sizeof(line));
	text_at(f, 24, 66, "font-size=\"13\"", line);

	fputs("<g id=\"lg-code\">\n", f);
	text_at(f, W - 24, 44, "id=\"lg-code-text\" font-size=\"30\" "
		"font-weight=\"bold\" text-anchor=\"end\"", code);
	text_at(f, W - 24, 62, "font-size=\"11\" text-anchor=\"end\" "
		"fill=\"" C_MUTED "\"", "loss/gain code (Maier 2010)");
	fputs("</g>\n", f);
	if (missing > 0) {
		qst_lg_describe(res, desc, sizeof(desc));
		/* desc is "L0G0 (reasons)": show the reasons. */
		const char *why = strchr(desc, '(');
		why = why ? why + 1 : desc;
		snprintf(line, sizeof(line), "Loss/gain code incomplete: %.*s",
			 (int)strcspn(why, ")"), why);
		text_at(f, 24, 88, "font-size=\"12\" fill=\"" C_MUTED "\"",
			line);
	}
}

/* --------------------------------------------------------------- axes */

static void write_axes(FILE *f)
{
	char label[16];

	/* The 95 % reference interval, |z| ≤ 1.96 (§3.5). */
	fprintf(f, "<rect id=\"normal-band\" x=\"%d\" y=\"%.1f\" width=\"%d\" "
		"height=\"%.1f\" fill=\"" C_BAND "\"/>\n", X0, y_of(Z_CRIT),
		X1 - X0, y_of(-Z_CRIT) - y_of(Z_CRIT));
	for (int z = (int)-Z_MAX; z <= (int)Z_MAX; z++) {
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"stroke=\"%s\" stroke-width=\"%s\"/>\n", X0, y_of(z),
			X1, y_of(z), z == 0 ? "#7f7f7f" : "#e6e6e6",
			z == 0 ? "1.2" : "0.8");
		if (z % 2)
			continue;
		snprintf(label, sizeof(label), "%s%d",
			 z < 0 ? "\u2212" : z > 0 ? "+" : "", z < 0 ? -z : z);
		text_at(f, X0 - 8, y_of(z) + 4, "font-size=\"12\" "
			"text-anchor=\"end\"", label);
	}
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		"fill=\"none\" stroke=\"#7f7f7f\"/>\n", X0, Y0, X1 - X0,
		Y1 - Y0);
	fprintf(f, "<text x=\"30\" y=\"%.1f\" font-size=\"13\" "
		"text-anchor=\"middle\" transform=\"rotate(-90 30 %.1f)\">"
		"z-score</text>\n", (Y0 + Y1) / 2.0, (Y0 + Y1) / 2.0);
	fprintf(f, "<text x=\"50\" y=\"%.1f\" font-size=\"11\" "
		"text-anchor=\"middle\" fill=\"" C_GAIN "\" "
		"transform=\"rotate(-90 50 %.1f)\">gain \u2192</text>\n",
		y_of(3.5), y_of(3.5));
	fprintf(f, "<text x=\"50\" y=\"%.1f\" font-size=\"11\" "
		"text-anchor=\"middle\" fill=\"" C_LOSS "\" "
		"transform=\"rotate(-90 50 %.1f)\">\u2190 loss</text>\n",
		y_of(-3.5), y_of(-3.5));
}

/* The seven DFNS tests grouped by modality, as rows of §1.1. */
static void write_groups(FILE *f)
{
	static const struct { int first, last; const char *name; } groups[] = {
		{ QST_CDT, QST_HPT, "thermal" },
		{ QST_MDT, QST_WUR, "mechanical" },
		{ QST_VDT, QST_VDT, "vibration" },
		{ QST_PPT, QST_PPT, "pressure" },
	};
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		double left = X0 + groups[g].first * slot_width();
		double right = X0 + (groups[g].last + 1) * slot_width();
		if (g > 0)
			fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
				"y2=\"%d\" stroke=\"#bfbfbf\" "
				"stroke-dasharray=\"4 3\"/>\n", left, Y0,
				left, Y1 + 56);
		text_at(f, (left + right) / 2, Y1 + 52, "font-size=\"11\" "
			"text-anchor=\"middle\" fill=\"" C_MUTED "\"",
			groups[g].name);
	}
}

/* Parameter names under the plot, with the flags worth a glance. */
static void write_param_labels(FILE *f, const struct qst_result *res)
{
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		const struct qst_result *r = &res[i];
		text_at(f, x_of(i), Y1 + 20, "font-size=\"13\" "
			"font-weight=\"bold\" text-anchor=\"middle\"",
			qst_param_name((enum qst_param)i));
		const char *note = r->flags & QST_RES_CUTOFF_REACHED ? "cut-off"
				   : r->flags & QST_RES_BOUNDED_VALUE ? "bounded"
				   : r->flags & QST_RES_REF_FLAGGED ? "ref \u26a0"
				   : r->flags & QST_RES_FEW_TRIALS ? "few trials"
				   : NULL;
		if (note && !(r->flags & QST_RES_NOT_DONE))
			text_at(f, x_of(i), Y1 + 35, "font-size=\"10\" "
				"text-anchor=\"middle\" fill=\"" C_MUTED "\"",
				note);
	}
}

/* -------------------------------------------------------------- marks */

static bool has_z(const struct qst_result *r)
{
	return qst_param_info(r->param)->z_scored && isfinite(r->z) &&
	       !(r->flags & QST_RES_NOT_DONE);
}

/* Thin segments between neighbouring z-scores; no line across a gap. */
static void write_profile_line(FILE *f, const struct qst_result *res)
{
	for (int i = 0; i + 1 < QST_PARAM_COUNT; i++)
		if (has_z(&res[i]) && has_z(&res[i + 1]))
			fprintf(f, "<line class=\"profile-line\" x1=\"%.1f\" "
				"y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"#a6a6a6\" stroke-width=\"1.2\"/>\n",
				x_of(i), y_of(res[i].z), x_of(i + 1),
				y_of(res[i + 1].z));
}

static void mark_open(FILE *f, const char *name, const char *kind,
		      const char *title)
{
	fprintf(f, "<g class=\"mark param-%s %s\" id=\"mark-%s\">\n<title>",
		name, kind, name);
	qst_xml_text(f, title);
	fputs("</title>\n", f);
}

static void mark_z(FILE *f, int i, const struct qst_result *r)
{
	const char *name = qst_param_name(r->param);
	int ab = qst_abnormal(r->z);
	const char *kind = ab < 0 ? "loss" : ab > 0 ? "gain" : "normal";
	const char *colour = ab < 0 ? C_LOSS : ab > 0 ? C_GAIN : C_NORMAL;
	char zs[32], title[96];
	double x = x_of(i), y = y_of(r->z);
	bool clipped = fabs(r->z) > Z_MAX;

	format_z(r->z, zs, sizeof(zs));
	snprintf(title, sizeof(title), "%s z = %s (%s)%s", name, zs, kind,
		 clipped ? ", beyond the plotted range" : "");
	mark_open(f, name, kind, title);
	if (clipped) {
		/* An arrowhead at the edge; the label carries the value. */
		double dir = r->z > 0 ? -1.0 : 1.0;
		fprintf(f, "<path d=\"M %.1f %.1f L %.1f %.1f L %.1f %.1f Z\" "
			"fill=\"%s\"/>\n", x, y + dir * 2, x - 8, y - dir * 12,
			x + 8, y - dir * 12, colour);
	} else {
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" "
			"fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>"
			"\n", x, y, colour);
	}
	/* Value centred above the mark (inside the plot when clipped), so
	 * labels never run into the next slot. */
	double ly = clipped ? y + (r->z > 0 ? 25 : -16) : y - 11;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
		"text-anchor=\"middle\" fill=\"%s\"%s>", x, ly, colour,
		ab ? " font-weight=\"bold\"" : "");
	qst_xml_text(f, zs);
	fputs("</text>\n</g>\n", f);
}

/* PHS and DMA are not z-scored (§3.6): a verdict box on the zero line. */
static void mark_verdict(FILE *f, int i, const struct qst_result *r)
{
	const char *name = qst_param_name(r->param);
	const char *v = qst_result_verdict(r);
	bool abnormal = r->abnormal > 0;
	char title[128];
	double x = x_of(i), y = y_of(0);

	snprintf(title, sizeof(title), "%s %s (not z-scored; value %g)", name,
		 v, r->value_raw);
	mark_open(f, name, abnormal ? "gain verdict" : "normal verdict",
		  title);
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"56\" height=\"20\" "
		"rx=\"4\" fill=\"%s\" stroke=\"%s\"/>\n", x - 28, y - 10,
		abnormal ? "#f6d5d1" : "#ffffff", abnormal ? C_GAIN : C_MUTED);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
		"text-anchor=\"middle\" fill=\"%s\">", x, y + 4,
		abnormal ? C_GAIN : C_NORMAL);
	qst_xml_text(f, v);
	fputs("</text>\n</g>\n", f);
}

/* Done but no z (no reference cell, undefined value), or not done. */
static void mark_text(FILE *f, int i, const struct qst_result *r,
		      const char *kind, const char *label, const char *why)
{
	const char *name = qst_param_name(r->param);
	char title[96];

	snprintf(title, sizeof(title), "%s: %s", name, why);
	mark_open(f, name, kind, title);
	text_at(f, x_of(i), y_of(0) - 6, "font-size=\"11\" "
		"text-anchor=\"middle\" font-style=\"italic\" "
		"fill=\"" C_MUTED "\"", label);
	fputs("</g>\n", f);
}

static void write_mark(FILE *f, int i, const struct qst_result *r)
{
	if (r->flags & QST_RES_NOT_DONE)
		mark_text(f, i, r, "not-done", "n.d.", "not done");
	else if (!qst_param_info(r->param)->z_scored)
		mark_verdict(f, i, r);
	else if (isfinite(r->z))
		mark_z(f, i, r);
	else if (r->flags & QST_RES_UNDEFINED)
		mark_text(f, i, r, "no-z", "undef.",
			  "value undefined (zero or negative), no z-score");
	else
		mark_text(f, i, r, "no-z", "no ref",
			  "no reference cell for this subject, no z-score");
}

/* ------------------------------------------------------ legend, footer */

static void legend_dot(FILE *f, double x, const char *colour,
		       const char *label)
{
	fprintf(f, "<circle cx=\"%.1f\" cy=\"%d\" r=\"6\" fill=\"%s\"/>\n", x,
		H - 72, colour);
	text_at(f, x + 11, H - 68, "font-size=\"12\"", label);
}

static void write_legend(FILE *f)
{
	fputs("<g id=\"legend\">\n", f);
	legend_dot(f, X0 + 6, C_LOSS, "loss (z < \u22121.96)");
	legend_dot(f, X0 + 146, C_GAIN, "gain (z > +1.96)");
	legend_dot(f, X0 + 286, C_NORMAL, "normal");
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"12\" "
		"fill=\"" C_BAND "\" stroke=\"#bfbfbf\"/>\n", X0 + 366,
		H - 78);
	text_at(f, X0 + 390, H - 68, "font-size=\"12\"",
		"95 % reference range (|z| \u2264 1.96)");
	text_at(f, X0 + 640, H - 68, "font-size=\"12\" fill=\"" C_MUTED "\"",
		"n.d. = not done");
	fputs("</g>\n", f);
}

static void write_footer(FILE *f, const struct qst_analysis_meta *m)
{
	char line[384];

	if (m->ref_table_id[0])
		snprintf(line, sizeof(line),
			 "Reference table %s (sha256 %.12s\u2026) \u00b7 "
			 "formulas %s \u00b7 qst %s", m->ref_table_id,
			 m->ref_table_sha256, m->formula_version[0]
			 ? m->formula_version : "?", QST_VERSION);
	else
		snprintf(line, sizeof(line), "No reference table: no "
			 "z-scores \u00b7 qst %s", QST_VERSION);
	text_at(f, 24, H - 38, "id=\"footer\" font-size=\"11\" "
		"fill=\"#595959\"", line);
	text_at(f, 24, H - 20, "font-size=\"11\" fill=\"#595959\"",
		"z > 0: more sensitive than the reference (gain of "
		"function); abnormal when |z| > 1.96. PHS and DMA are not "
		"z-scored and show a verdict.");
}

int qst_report_svg(FILE *f, const struct qst_result res[QST_PARAM_COUNT],
		   const struct qst_analysis_meta *meta)
{
	struct qst_analysis_meta empty;

	if (!f || !res || !rows_in_dfns_order(res))
		return QST_ERR_ARG;
	if (!meta) {
		memset(&empty, 0, sizeof(empty));
		empty.subject.age_years = NAN;
		meta = &empty;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n",
	      f);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"" FONT "\" fill=\"#1a1a1a\">\n", W, H, W, H);
	fputs("<title>QST sensory profile</title>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W,
		H);
	write_header(f, res, meta);
	write_axes(f);
	write_groups(f);
	write_param_labels(f, res);
	write_profile_line(f, res);
	fputs("<g id=\"marks\">\n", f);
	for (int i = 0; i < QST_PARAM_COUNT; i++)
		write_mark(f, i, &res[i]);
	fputs("</g>\n", f);
	write_legend(f);
	write_footer(f, meta);
	fputs("</svg>\n", f);
	if (fflush(f) != 0 || ferror(f)) {
		qst_err("cannot write the SVG profile");
		return QST_ERR_IO;
	}
	return QST_OK;
}
