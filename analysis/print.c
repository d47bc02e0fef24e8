/*
 * The operator's result table. Rounding is for display only
 * (qst-domain.md §10.1): 2 decimals for z, 3 for log values, 1 for °C.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis_internal.h"
#include "qst_analysis.h"
#include "qst_report.h"

struct flag_word {
	unsigned bit;
	const char *word;
	const char *note;
};

static const struct flag_word flag_words[] = {
	{ QST_RES_CUTOFF_REACHED, "cutoff",
	  "a trial reached the safety cut-off without a response; the "
	  "cut-off value is included (qst-domain 2.1, 2.3)" },
	{ QST_RES_BOUNDED_VALUE, "bounded",
	  "a value lies at a device or stimulus-set limit, so z is "
	  "truncated there (3.7)" },
	{ QST_RES_REF_FLAGGED, "ref\u26a0",
	  "\u26a0 the reference cell is marked implausible in its source; "
	  "verify it before clinical use (4.1)" },
	{ QST_RES_NO_REFERENCE, "no-ref",
	  "no reference cell for this site, sex and age (none below 20 "
	  "years); no z-score (4.4)" },
	{ QST_RES_UNDEFINED, "undefined",
	  "the value cannot be transformed (zero or negative mean, zero "
	  "single-stimulus rating, bad rating); no z-score (3.4)" },
	{ QST_RES_NOT_Z_SCORED, "not-z",
	  "PHS and DMA are not z-scored: PHS is abnormal above its cell's "
	  "mean + 1.96 SD, DMA on any pain rating above 0 (3.6)" },
	{ QST_RES_FEW_TRIALS, "few-trials",
	  "fewer trials than the procedure asks for (TSL counts pairs, PHS "
	  "cooling ramps)" },
	{ QST_RES_RESPONSE_SUSPECT, "suspect",
	  "a response came too soon after stimulus onset (7.5); check the "
	  "trial" },
};

#define N_FLAG_WORDS (sizeof(flag_words) / sizeof(flag_words[0]))

/* printf pads by bytes; "±", "°" and "⚠" are several bytes but one column. */
static int display_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void put_cell(FILE *f, const char *s, int width, bool right)
{
	int pad = width - display_width(s);
	if (right)
		for (int i = 0; i < pad; i++)
			fputc(' ', f);
	fputs(s, f);
	if (!right)
		for (int i = 0; i < pad; i++)
			fputc(' ', f);
	fputc(' ', f);
}

static bool is_log_domain(enum qst_param p)
{
	return qst_param_info(p)->transform != QST_TF_NONE;
}

/* Decimals for a value in raw units. */
static int raw_decimals(enum qst_param p)
{
	switch (p) {
	case QST_CDT: case QST_WDT: case QST_TSL: case QST_CPT:
	case QST_HPT: case QST_PPT:
		return 1;
	case QST_PHS:
		return 0;
	default:
		return 2;
	}
}

const char *qst_unit_display(const char *unit)
{
	if (!unit || strcmp(unit, "count") == 0 || strcmp(unit, "ratio") == 0 ||
	    strcmp(unit, "n/a") == 0)
		return "";
	if (strcmp(unit, "degC") == 0)
		return "\u00b0C";
	return unit;
}

static const char *display_unit(enum qst_param p)
{
	return qst_unit_display(qst_param_info(p)->unit);
}

static void format_raw(const struct qst_result *r, char *buf, size_t len)
{
	if (!isfinite(r->value_raw)) {
		snprintf(buf, len, "-");
		return;
	}
	const char *unit = display_unit(r->param);
	snprintf(buf, len, "%.*f%s%s", raw_decimals(r->param), r->value_raw,
		 *unit ? " " : "", unit);
}

static void format_transformed(const struct qst_result *r, char *buf,
			       size_t len)
{
	if (!isfinite(r->value_transformed))
		snprintf(buf, len, "-");
	else if (is_log_domain(r->param))
		snprintf(buf, len, "%.3f", r->value_transformed);
	else
		snprintf(buf, len, "%.*f", raw_decimals(r->param),
			 r->value_transformed);
}

static void format_reference(const struct qst_result *r, char *buf,
			     size_t len)
{
	if (!isfinite(r->ref_mean)) {
		snprintf(buf, len, "-");
		return;
	}
	/* As many decimals as the published tables carry (§4.2). */
	int d = is_log_domain(r->param) ? 3 : 2;
	snprintf(buf, len, "%.*f \u00b1 %.*f", d, r->ref_mean, d, r->ref_sd);
}

static void format_z(double z, char *buf, size_t len)
{
	if (!isfinite(z)) {
		snprintf(buf, len, "-");
		return;
	}
	/* No "-0.00": a z that rounds to zero has no sign worth showing. */
	if (fabs(z) < 0.005)
		z = 0.0;
	snprintf(buf, len, "%+.2f", z);
}

const char *qst_result_verdict(const struct qst_result *r)
{
	if (r->flags & QST_RES_UNDEFINED)
		return "undefined";
	if (r->flags & QST_RES_NOT_Z_SCORED) {
		if (r->abnormal > 0)
			return r->param == QST_PHS ? "abnormal" : "gain";
		if (r->param == QST_PHS && (r->flags & QST_RES_NO_REFERENCE))
			return "no ref";
		return "normal";
	}
	if (r->flags & QST_RES_NO_REFERENCE)
		return "no ref";
	if (r->abnormal > 0)
		return "gain";
	if (r->abnormal < 0)
		return "loss";
	return "normal";
}

static void format_flags(unsigned flags, char *buf, size_t len)
{
	buf[0] = '\0';
	size_t used = 0;
	for (size_t i = 0; i < N_FLAG_WORDS; i++) {
		if (!(flags & flag_words[i].bit))
			continue;
		int w = snprintf(buf + used, len - used, "%s%s",
				 used ? " " : "", flag_words[i].word);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

static void print_header(FILE *f, const struct qst_subject *s,
			 const char *ref_id, const char *ref_sha256)
{
	if (s) {
		int band = qst_age_band(s->age_years);
		fprintf(f, "QST results: sex %c, age %.1f years (band %s), "
			"site %s\n", s->sex ? s->sex : '?', s->age_years,
			qst_age_band_label(band), s->site[0] ? s->site : "?");
	} else {
		fprintf(f, "QST results\n");
	}
	if (ref_id && ref_id[0])
		fprintf(f, "Reference: %s (sha256 %.16s...)\n", ref_id,
			ref_sha256 ? ref_sha256 : "");
	else
		fprintf(f, "Reference: none loaded, no z-scores\n");
	fputc('\n', f);
}

enum { W_PARAM = 5, W_N = 3, W_RAW = 12, W_TF = 7, W_REF = 16, W_Z = 6,
       W_VERDICT = 9 };

static void print_columns(FILE *f)
{
	put_cell(f, "Param", W_PARAM, false);
	put_cell(f, "n", W_N, true);
	put_cell(f, "Value", W_RAW, true);
	put_cell(f, "z-dom.", W_TF, true);
	put_cell(f, "Reference", W_REF, true);
	put_cell(f, "z", W_Z, true);
	put_cell(f, "Verdict", W_VERDICT, false);
	fputs("Flags\n", f);
}

static void print_row(FILE *f, const struct qst_result *r)
{
	char raw[48], tf[32], refs[64], z[16], n[16], flags[128];
	format_raw(r, raw, sizeof(raw));
	format_transformed(r, tf, sizeof(tf));
	format_reference(r, refs, sizeof(refs));
	format_z(r->z, z, sizeof(z));
	format_flags(r->flags, flags, sizeof(flags));
	snprintf(n, sizeof(n), "%d", r->n);

	put_cell(f, qst_param_name(r->param), W_PARAM, false);
	put_cell(f, n, W_N, true);
	put_cell(f, raw, W_RAW, true);
	put_cell(f, tf, W_TF, true);
	put_cell(f, refs, W_REF, true);
	put_cell(f, z, W_Z, true);
	if (flags[0]) {
		put_cell(f, qst_result_verdict(r), W_VERDICT, false);
		fputs(flags, f);
	} else {
		fputs(qst_result_verdict(r), f); /* no trailing blanks */
	}
	fputc('\n', f);
}

static void print_footnotes(FILE *f, unsigned all_flags, const char *not_done)
{
	fputs("\nVerdict: abnormal when |z| > 1.96; z > 0 is gain of "
	      "function, z < 0 loss (qst-domain 3.2, 3.5).\n", f);
	fputs("z-dom.: the value in the z domain (log10 for CDT WDT TSL "
	      "MDT MPT MPS DMA WUR PPT).\n", f);
	for (size_t i = 0; i < N_FLAG_WORDS; i++)
		if (all_flags & flag_words[i].bit)
			fprintf(f, "  %s: %s.\n", flag_words[i].word,
				flag_words[i].note);
	if (not_done[0])
		fprintf(f, "Not done:%s\n", not_done);
}

/* The loss/gain code under the table (qst-domain.md §5.1). */
static void print_lg_code(FILE *f, const struct qst_result res[QST_PARAM_COUNT])
{
	char lg[192];
	if (qst_lg_describe(res, lg, sizeof(lg)) >= 0)
		fprintf(f, "\nLoss/gain code: %s\n", lg);
}

void qst_results_print(FILE *f, const struct qst_result res[QST_PARAM_COUNT],
		       const struct qst_subject *subject,
		       const struct qst_reftable *ref)
{
	qst_results_print_stored(f, res, subject,
				 ref ? qst_reftable_id(ref) : NULL,
				 ref ? qst_reftable_sha256(ref) : NULL);
}

void qst_results_print_stored(FILE *f,
			      const struct qst_result res[QST_PARAM_COUNT],
			      const struct qst_subject *subject,
			      const char *ref_id, const char *ref_sha256)
{
	if (!f || !res)
		return;
	print_header(f, subject, ref_id, ref_sha256);
	print_columns(f);

	unsigned all_flags = 0;
	char not_done[QST_PARAM_COUNT * 4 + 1] = "";
	for (int p = 0; p < QST_PARAM_COUNT; p++) {
		const struct qst_result *r = &res[p];
		if (r->flags & QST_RES_NOT_DONE) {
			strcat(not_done, " ");
			strcat(not_done, qst_param_name((enum qst_param)p));
			continue;
		}
		print_row(f, r);
		all_flags |= r->flags;
	}
	print_lg_code(f, res);
	print_footnotes(f, all_flags, not_done);
}
