/*
 * One SVG page per paradigm (qst report): for each train, block or pair
 * the thermode readback (/temperature measured_c) above the ratings, with
 * the index marked where it was taken (qst-domain.md §6.1 R_first and
 * R_last, §6.3 the phase means, §6.4 the T3 window and t*). Presentation
 * attributes only, like the profile (report_svg.c), so every viewer and
 * XML parser takes it; all text goes through qst_xml_text.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qst_core.h"
#include "qst_paradigms.h"
#include "report_internal.h"

/* Page geometry, SVG user units: one block of BLOCK_H per instance. */
enum { W = 960, X0 = 96, X1 = 900, TOP = 70, BLOCK_H = 300,
       TEMP_H = 90, RATE_H = 140, GAP = 30 };

#define FONT "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"
#define C_TEMP "#b2182b"
#define C_RATE "#2166ac"
#define C_CONTROL "#8c8c8c"
#define C_MARK "#1a9850"
#define C_WINDOW "#e3eedd"

/* A panel: data ranges mapped onto a rectangle. */
struct panel {
	double x, y, w, h;      /* rectangle */
	double t0, t1, v0, v1;  /* data ranges */
};

static double px(const struct panel *p, double t)
{
	return p->x + (t - p->t0) / (p->t1 - p->t0) * p->w;
}

static double py(const struct panel *p, double v)
{
	double c = fmax(p->v0, fmin(p->v1, v));
	return p->y + p->h - (c - p->v0) / (p->v1 - p->v0) * p->h;
}

static void text_at(FILE *f, double x, double y, const char *attrs,
		    const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-family=\"" FONT "\" %s>",
		x, y, attrs);
	qst_xml_text(f, s);
	fputs("</text>\n", f);
}

static void frame(FILE *f, const struct panel *p, const char *ylabel)
{
	char b[48];
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"none\" stroke=\"#4d4d4d\" stroke-width=\"1\"/>\n", p->x,
		p->y, p->w, p->h);
	snprintf(b, sizeof(b), "%g", p->v1);
	text_at(f, p->x - 6, p->y + 4, "font-size=\"11\" text-anchor=\"end\"", b);
	snprintf(b, sizeof(b), "%g", p->v0);
	text_at(f, p->x - 6, p->y + p->h, "font-size=\"11\" text-anchor=\"end\"",
		b);
	text_at(f, p->x - 6, p->y + p->h / 2,
		"font-size=\"11\" text-anchor=\"end\"", ylabel);
	snprintf(b, sizeof(b), "%.1f s", p->t0);
	text_at(f, p->x, p->y + p->h + 14, "font-size=\"11\"", b);
	snprintf(b, sizeof(b), "%.1f s", p->t1);
	text_at(f, p->x + p->w, p->y + p->h + 14,
		"font-size=\"11\" text-anchor=\"end\"", b);
}

/* Stream samples within [t0, t1] of session time, drawn at time − shift. */
static void polyline(FILE *f, const struct panel *p,
		     const struct qst_pd_sample *s, size_t n, double shift,
		     const char *colour, const char *cls)
{
	size_t k = 0;
	fprintf(f, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"1.5\" points=\"", cls, colour);
	for (size_t i = 0; i < n; i++) {
		double t = (double)s[i].t_ns / 1e9 - shift;
		if (t < p->t0 || t > p->t1 || !isfinite(s[i].v))
			continue;
		fprintf(f, "%s%.1f,%.1f", k++ ? " " : "", px(p, t),
			py(p, s[i].v));
	}
	fputs("\"/>\n", f);
}

/* Temperature range over the span (±0.5 °C); false when no sample. */
static bool temp_range(const struct qst_streams *s, double t0, double t1,
		       double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t i = 0; i < s->n_temperature; i++) {
		double t = (double)s->temperature[i].t_ns / 1e9;
		double v = s->temperature[i].v;
		if (t < t0 || t > t1 || !isfinite(v))
			continue;
		*lo = fmin(*lo, v);
		*hi = fmax(*hi, v);
	}
	*lo = floor(*lo - 0.5);
	*hi = ceil(*hi + 0.5);
	return isfinite(*lo) && isfinite(*hi);
}

/* The stimulus panel: readback over [t0, t1] of session time. */
static void temp_panel(FILE *f, const struct qst_streams *s, double y,
		       double t0, double t1)
{
	struct panel p = { X0, y, X1 - X0, TEMP_H, t0, t1, 0, 1 };
	if (!temp_range(s, t0, t1, &p.v0, &p.v1)) {
		frame(f, &p, "degC");
		text_at(f, X0 + 8, y + TEMP_H / 2.0, "font-size=\"12\"",
			"no thermode readback in /temperature");
		return;
	}
	frame(f, &p, "degC");
	polyline(f, &p, s->temperature, s->n_temperature, 0.0, C_TEMP,
		 "stimulus measured_c");
}

static const struct qst_index_row *find_row(const struct qst_paradigms *pd,
					    const struct qst_pd_instance *in,
					    enum qst_index_variant v)
{
	for (size_t i = 0; i < pd->n_rows; i++)
		if (pd->rows[i].paradigm == in->paradigm &&
		    pd->rows[i].instance == in->instance &&
		    pd->rows[i].ix.variant == v)
			return &pd->rows[i];
	return NULL;
}

/* "tsp.diff = 35 rating 0-100" or "tsp.diff undefined (zero_base,...)". */
static void index_label(const struct qst_index_row *r, char *buf, size_t len)
{
	const struct qst_index_info *info = r ? qst_index_info(r->ix.variant)
					      : NULL;
	if (!info) {
		snprintf(buf, len, "index not computed");
	} else if (qst_index_defined(&r->ix)) {
		snprintf(buf, len, "%s = %.4g %s", info->name, r->ix.value,
			 qst_index_row_unit(r));
	} else {
		char fl[128];
		qst_index_flags_format(r->ix.flags, fl, sizeof(fl));
		snprintf(buf, len, "%s undefined (%s)", info->name, fl);
	}
}

static void dot(FILE *f, double x, double y, double r, const char *colour,
		const char *cls)
{
	fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" "
		"fill=\"%s\"/>\n", cls, x, y, r, colour);
}

/* ----------------------------------------------------------- TSP */

static void tsp_block(FILE *f, const struct qst_paradigms *pd,
		      const struct qst_pd_instance *in,
		      const struct qst_streams *s, double y)
{
	double t0 = in->t0 - 1.0, t1 = in->t1 + 2.0;
	temp_panel(f, s, y, t0, t1);
	struct panel p = { X0, y + TEMP_H + GAP, X1 - X0, RATE_H, t0, t1, 0,
			   100 };
	frame(f, &p, "NRS");
	for (size_t i = 0; i < in->n_points; i++) {
		bool end = i == 0 || i + 1 == in->n_points;
		dot(f, px(&p, in->points[i].t), py(&p, in->points[i].v),
		    end ? 5 : 3.5, end ? C_MARK : C_RATE,
		    end ? "rating index-point" : "rating");
	}
	const struct qst_pd_point *a = &in->points[0];
	const struct qst_pd_point *b = &in->points[in->n_points - 1];
	fprintf(f, "<line class=\"index-diff\" x1=\"%.1f\" y1=\"%.1f\" "
		"x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"4 3\"/>\n",
		px(&p, b->t), py(&p, a->v), px(&p, b->t), py(&p, b->v), C_MARK);
	char label[160];
	index_label(find_row(pd, in, QST_IX_TSP_DIFF), label, sizeof(label));
	text_at(f, X0 + 8, p.y + 16, "font-size=\"13\" class=\"index-label\"",
		label);
}

/* ----------------------------------------------------------- CPM */

static void cs_band(FILE *f, const struct panel *p, double on, double off)
{
	double a = fmax(on, p->t0), b = fmin(off, p->t1);
	if (!(b > a))
		return;
	fprintf(f, "<rect class=\"conditioning\" x=\"%.1f\" y=\"%.1f\" "
		"width=\"%.1f\" height=\"%.1f\" fill=\"" C_WINDOW "\"/>\n",
		px(p, a), p->y, px(p, b) - px(p, a), p->h);
}

/* The conditioning stimulus as a band: `condition` events, value2 = 1
 * on, 0 off (docs/hdf5-schema.md, "Paradigm marks"). */
static void cs_bands(FILE *f, const struct panel *p,
		     const struct qst_streams *s)
{
	double on = NAN;
	for (size_t i = 0; s->codes.condition >= 0 && i < s->n_events; i++) {
		const struct qst_pd_event *e = &s->events[i];
		if (e->code != s->codes.condition)
			continue;
		double t = (double)e->t_ns / 1e9;
		if (e->value2 == 1.0 && isnan(on)) {
			on = t;
		} else if (e->value2 == 0.0 && !isnan(on)) {
			cs_band(f, p, on, t);
			on = NAN;
		}
	}
	if (!isnan(on))
		cs_band(f, p, on, p->t1);
}

static void cpm_block(FILE *f, const struct qst_paradigms *pd,
		      const struct qst_pd_instance *in,
		      const struct qst_streams *s, double y)
{
	static const char *const colour[3] = { C_RATE, C_MARK, C_CONTROL };
	double t0 = in->t0 - 2.0, t1 = in->t1 + 2.0;
	temp_panel(f, s, y, t0, t1);
	struct panel p = { X0, y + TEMP_H + GAP, X1 - X0, RATE_H, t0, t1, 0,
			   100 };
	cs_bands(f, &p, s);
	frame(f, &p, "NRS");
	for (size_t i = 0; i < in->n_points; i++) {
		int ph = in->phase[i] >= 0 && in->phase[i] < 3 ? in->phase[i]
							       : 0;
		static const char *const cls[3] = {
			"rating phase-before", "rating phase-during",
			"rating phase-after",
		};
		dot(f, px(&p, in->points[i].t), py(&p, in->points[i].v), 4,
		    colour[ph], cls[ph]);
	}
	char label[160], inh[160];
	index_label(find_row(pd, in, QST_IX_CPM_ABS), label, sizeof(label));
	index_label(find_row(pd, in, QST_IX_CPM_INHIBITION), inh, sizeof(inh));
	text_at(f, X0 + 8, p.y + 16, "font-size=\"13\" class=\"index-label\"",
		label);
	text_at(f, X0 + 8, p.y + 32, "font-size=\"13\" class=\"index-label\"",
		inh);
	text_at(f, X1, p.y + 16, "font-size=\"11\" text-anchor=\"end\"",
		"blue before, green during, grey after; band: conditioning on");
}

/* ------------------------------------------------------------ OA */

/* The slider trace of one trial on mark time, like polyline() but only
 * within the trial's own window. */
static void oa_trace(FILE *f, const struct panel *p,
		     const struct qst_streams *s, double mark, double end,
		     const char *colour, const char *cls)
{
	size_t k = 0;
	fprintf(f, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"1.5\" points=\"", cls, colour);
	for (size_t i = 0; i < s->n_rating; i++) {
		double t = (double)s->rating[i].t_ns / 1e9;
		if (t < mark || t >= end || t - mark > p->t1)
			continue;
		fprintf(f, "%s%.1f,%.1f", k++ ? " " : "", px(p, t - mark),
			py(p, s->rating[i].v));
	}
	fputs("\"/>\n", f);
}

static void oa_block(FILE *f, const struct qst_paradigms *pd,
		     const struct qst_pd_instance *in,
		     const struct qst_streams *s, double y)
{
	double span = isfinite(in->t3_end) ? in->t3_end + 2.0 : in->t3 + 20.0;
	if (!(span > 1.0))
		span = 30.0;
	struct panel tp = { X0, y, X1 - X0, TEMP_H, 0, span, 0, 1 };
	double lo1, hi1, lo2, hi2;
	bool h1 = temp_range(s, in->mark_offset, in->mark_offset + span, &lo1,
			     &hi1);
	bool h2 = temp_range(s, in->mark_control, in->mark_control + span,
			     &lo2, &hi2);
	tp.v0 = h1 && h2 ? fmin(lo1, lo2) : h1 ? lo1 : h2 ? lo2 : 30;
	tp.v1 = h1 && h2 ? fmax(hi1, hi2) : h1 ? hi1 : h2 ? hi2 : 50;
	frame(f, &tp, "degC");
	if (!h1 && !h2)
		text_at(f, X0 + 8, y + TEMP_H / 2.0, "font-size=\"12\"",
			"no thermode readback in /temperature");
	polyline(f, &tp, s->temperature, s->n_temperature, in->mark_control,
		 C_CONTROL, "stimulus control measured_c");
	polyline(f, &tp, s->temperature, s->n_temperature, in->mark_offset,
		 C_TEMP, "stimulus offset measured_c");
	struct panel p = { X0, y + TEMP_H + GAP, X1 - X0, RATE_H, 0, span, 0,
			   100 };
	if (isfinite(in->t3) && isfinite(in->t3_end) && in->t3_end > in->t3)
		fprintf(f, "<rect class=\"t3-window\" x=\"%.1f\" y=\"%.1f\" "
			"width=\"%.1f\" height=\"%.1f\" fill=\"" C_WINDOW "\"/>\n",
			px(&p, in->t3), p.y, px(&p, in->t3_end) - px(&p, in->t3),
			p.h);
	frame(f, &p, "rating");
	oa_trace(f, &p, s, in->mark_control, in->end_control, C_CONTROL,
		 "rating control");
	oa_trace(f, &p, s, in->mark_offset, in->end_offset, C_RATE,
		 "rating offset");
	if (isfinite(in->t_min))
		fprintf(f, "<line class=\"index-tmin\" x1=\"%.1f\" y1=\"%.1f\" "
			"x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-dasharray=\"4 3\"/>\n", px(&p, in->t_min), p.y,
			px(&p, in->t_min), p.y + p.h, C_MARK);
	char label[160];
	index_label(find_row(pd, in, QST_IX_OA_ABS_MIN), label, sizeof(label));
	text_at(f, X0 + 8, p.y + 16, "font-size=\"13\" class=\"index-label\"",
		label);
	text_at(f, X1, p.y + 16, "font-size=\"11\" text-anchor=\"end\"",
		"blue offset, grey control, green band T3, time from the mark");
}

/* -------------------------------------------------------------- page */

static size_t count(const struct qst_paradigms *pd, enum qst_paradigm p)
{
	size_t n = 0;
	for (size_t i = 0; i < pd->n_inst; i++)
		n += pd->inst[i].paradigm == p;
	return n;
}

static void block_title(FILE *f, enum qst_paradigm p,
			const struct qst_pd_instance *in, double y)
{
	static const char *const what[QST_PD_COUNT] = {
		"Temporal summation, train", "Conditioned pain modulation, block",
		"Offset analgesia, pair",
	};
	char b[96];
	snprintf(b, sizeof(b), "%s %d", what[p], in->instance);
	text_at(f, X0, y - 10, "font-size=\"14\" font-weight=\"bold\"", b);
}

int qst_paradigm_svg(FILE *f, enum qst_paradigm p,
		     const struct qst_paradigms *pd,
		     const struct qst_streams *s, const char *title)
{
	if (!f || !pd || !s || p < 0 || p >= QST_PD_COUNT)
		return QST_ERR_ARG;
	size_t n = count(pd, p);
	if (n == 0)
		return QST_ERR_NOTFOUND;
	int h = TOP + (int)n * BLOCK_H + 20;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"class=\"paradigm paradigm-%s\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		W, h, W, h, qst_paradigm_name(p));
	char head[160];
	snprintf(head, sizeof(head), "Subject %s \u00b7 %s (qst-domain.md %s)",
		 title && title[0] ? title : "?", qst_paradigm_name(p),
		 p == QST_PD_TSP ? "§6.1" : p == QST_PD_CPM ? "§6.3" : "§6.4");
	text_at(f, X0, 30, "font-size=\"16\" font-weight=\"bold\"", head);
	double y = TOP;
	for (size_t i = 0; i < pd->n_inst; i++) {
		const struct qst_pd_instance *in = &pd->inst[i];
		if (in->paradigm != p)
			continue;
		fprintf(f, "<g class=\"instance instance-%d\">\n", in->instance);
		block_title(f, p, in, y + 10);
		if (p == QST_PD_TSP && in->n_points > 0)
			tsp_block(f, pd, in, s, y + 10);
		else if (p == QST_PD_CPM)
			cpm_block(f, pd, in, s, y + 10);
		else if (p == QST_PD_OA)
			oa_block(f, pd, in, s, y + 10);
		fputs("</g>\n", f);
		y += BLOCK_H;
	}
	fputs("</svg>\n", f);
	return fflush(f) != 0 || ferror(f) ? QST_ERR_IO : QST_OK;
}
