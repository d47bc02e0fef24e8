/*
 * Finding the sensitization paradigms in a session's events and scoring
 * them (qst-domain.md §6.1 TSP, §6.3 CPM, §6.4 offset analgesia). The
 * formulas are qst_indices.c's; this file only decides which ratings go
 * into which formula, by the event contract of docs/hdf5-schema.md
 * ("Paradigm marks").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qst_core.h"
#include "qst_paradigms.h"

/* OA time matching: the common grid's step (§6.4 "Sampling"), s. */
#define OA_GRID_S 0.1
/* oa.abs at fixed times after the T3 start, s (§6.4: the effect is
 * largest a few seconds after the decrease). */
static const double oa_fixed_s[] = { 1.0, 5.0 };

const char *qst_paradigm_name(enum qst_paradigm p)
{
	static const char *const names[QST_PD_COUNT] = { "tsp", "cpm", "oa" };
	return p >= 0 && p < QST_PD_COUNT ? names[p] : "unknown";
}

static double secs(int64_t t_ns)
{
	return (double)t_ns / 1e9;
}

/* ----------------------------------------------------------- builder */

struct builder {
	struct qst_paradigms *pd;
	size_t cap_rows, cap_inst;
	int rc;
};

static bool grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * sz);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static void add_row(struct builder *b, enum qst_paradigm p, int instance,
		    struct qst_index ix, const char *detail)
{
	struct qst_paradigms *pd = b->pd;
	if (b->rc || !grow((void **)&pd->rows, &b->cap_rows, pd->n_rows + 1,
			   sizeof(*pd->rows))) {
		b->rc = QST_ERR_NOMEM;
		return;
	}
	struct qst_index_row *r = &pd->rows[pd->n_rows++];
	r->paradigm = p;
	r->instance = instance;
	r->ix = ix;
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
}

/* A new plot instance, or NULL (b->rc set). */
static struct qst_pd_instance *add_inst(struct builder *b,
					enum qst_paradigm p, int instance)
{
	struct qst_paradigms *pd = b->pd;
	if (b->rc || !grow((void **)&pd->inst, &b->cap_inst, pd->n_inst + 1,
			   sizeof(*pd->inst))) {
		b->rc = QST_ERR_NOMEM;
		return NULL;
	}
	struct qst_pd_instance *in = &pd->inst[pd->n_inst++];
	memset(in, 0, sizeof(*in));
	in->paradigm = p;
	in->instance = instance;
	in->ts_c = NAN;
	in->t_min = NAN;
	return in;
}

static bool add_point(struct builder *b, struct qst_pd_instance *in,
		      double t, double v, int phase)
{
	size_t n = in->n_points;
	struct qst_pd_point *pts = realloc(in->points, (n + 1) * sizeof(*pts));
	if (pts)
		in->points = pts;
	int *ph = pts ? realloc(in->phase, (n + 1) * sizeof(*ph)) : NULL;
	if (ph)
		in->phase = ph;
	if (!pts || !ph) {
		b->rc = QST_ERR_NOMEM;
		return false;
	}
	pts[n] = (struct qst_pd_point){ t, v };
	ph[n] = phase;
	in->n_points = n + 1;
	return true;
}

static bool is_mark(const struct qst_streams *s, const struct qst_pd_event *e)
{
	return e->code == s->codes.mark;
}

/* ------------------------------------------------------------- TSP */

/* Sort one train's ratings by pulse number: the contract has one rating
 * per rated pulse, recorded in order, but §6.1 scores in pulse order. */
static void sort_by_pulse(struct qst_pd_point *p, double *pulse, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && pulse[j - 1] > pulse[j]; j--) {
			double k = pulse[j];
			struct qst_pd_point q = p[j];
			pulse[j] = pulse[j - 1];
			p[j] = p[j - 1];
			pulse[j - 1] = k;
			p[j - 1] = q;
		}
}

/* Time of pulse k of the train that starts at event index first. */
static double pulse_time(const struct qst_streams *s, size_t first,
			 size_t end, double k, double fallback)
{
	for (size_t i = first; i < end; i++)
		if (s->events[i].code == s->codes.pulse &&
		    s->events[i].value == k)
			return secs(s->events[i].t_ns);
	return fallback;
}

/* The train of events [first, end): its ratings in pulse order. */
static void score_train(struct builder *b, const struct qst_streams *s,
			size_t first, size_t end, int number)
{
	size_t n = 0;
	for (size_t i = first; i < end; i++)
		n += s->events[i].code == s->codes.rating;
	/* Summation needs a first and a last rating: an unrated train (a
	 * conditioning stimulus) or a one-pulse train (a CPM test stimulus,
	 * cpm.lua) is no TSP. */
	if (n < 2)
		return;
	struct qst_pd_instance *in = add_inst(b, QST_PD_TSP, number);
	double *pulse = calloc(n, sizeof(*pulse)), *r = calloc(n, sizeof(*r));
	for (size_t i = first; in && pulse && r && i < end; i++) {
		const struct qst_pd_event *e = &s->events[i];
		if (e->code != s->codes.rating)
			continue;
		pulse[in->n_points] = e->value;
		double t = pulse_time(s, first, end, e->value, secs(e->t_ns));
		if (!add_point(b, in, t, e->value2, 0))
			break;
	}
	if (!pulse || !r)
		b->rc = QST_ERR_NOMEM;
	if (b->rc == QST_OK) {
		sort_by_pulse(in->points, pulse, n);
		for (size_t k = 0; k < n; k++)
			r[k] = in->points[k].v;
		const struct qst_pd_event *ts = &s->events[first];
		in->t0 = secs(ts->t_ns);
		in->t1 = in->points[n - 1].t;
		char d[96];
		snprintf(d, sizeof(d), "train %d: %zu rated of %g pulses at "
			 "%g Hz", number, n, ts->value, ts->value2);
		static const enum qst_index_variant v[] = {
			QST_IX_TSP_DIFF, QST_IX_TSP_MAX, QST_IX_TSP_FROM_MIN,
			QST_IX_TSP_RATIO,
		};
		for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++)
			add_row(b, QST_PD_TSP, number, qst_tsp(v[j], r, n), d);
	}
	free(pulse);
	free(r);
}

/* Trains run from a train_start to the next train_start or session_end
 * (the contract), or to a mark: the ratings after a mark belong to the
 * marked paradigm (a CPM phase), not to an unrated train before it. */
static void find_trains(struct builder *b, const struct qst_streams *s)
{
	int number = 0;
	for (size_t i = 0; i < s->n_events && b->rc == QST_OK; i++) {
		if (s->events[i].code != s->codes.train_start ||
		    s->codes.train_start < 0)
			continue;
		size_t end = i + 1;
		while (end < s->n_events &&
		       s->events[end].code != s->codes.train_start &&
		       s->events[end].code != s->codes.session_end &&
		       !is_mark(s, &s->events[end]))
			end++;
		score_train(b, s, i, end, ++number);
	}
}

/* ------------------------------------------------------------- CPM */

enum { PH_BEFORE, PH_DURING, PH_AFTER, PH_COUNT, PH_NONE = -1 };

/* Which phase mark LABEL opens; PH_NONE for any other mark. */
static int cpm_phase(const char *label)
{
	static const char *const names[PH_COUNT] = {
		"cpm:before", "cpm:during", "cpm:after",
	};
	for (int p = 0; p < PH_COUNT; p++)
		if (!strcmp(label, names[p]))
			return p;
	return PH_NONE;
}

struct cpm_block {
	int number;
	bool marked[PH_COUNT];
	double sum[PH_COUNT];
	size_t n[PH_COUNT];
};

/* The TS value of a phase: the mean of its ratings (§6.3: repeated TS
 * ratings averaged); NaN when it has none. */
static double phase_mean(const struct cpm_block *c, int p)
{
	return c->n[p] ? c->sum[p] / (double)c->n[p] : NAN;
}

/* An index on a phase without ratings is undefined for want of input,
 * not for a NaN: say so. */
static struct qst_index need(struct qst_index ix, bool have)
{
	if (!have)
		ix.flags = QST_IDX_UNDEFINED | QST_IDX_EMPTY;
	return ix;
}

static void score_cpm(struct builder *b, const struct cpm_block *c,
		      const struct qst_pd_instance *in)
{
	double before = phase_mean(c, PH_BEFORE);
	double during = phase_mean(c, PH_DURING);
	bool hb = c->n[PH_BEFORE] > 0, hd = c->n[PH_DURING] > 0;
	char d[96];
	snprintf(d, sizeof(d), "block %d: %zu before, %zu during, %zu after",
		 c->number, c->n[PH_BEFORE], c->n[PH_DURING], c->n[PH_AFTER]);
	if (isfinite(in->ts_c)) {
		size_t l = strlen(d);
		snprintf(d + l, sizeof(d) - l, "; TS %.1f degC", in->ts_c);
	}
	struct qst_index inhib = qst_cpm_inhibition(QST_TS_RATING, before,
						    during);
	add_row(b, QST_PD_CPM, c->number,
		need(qst_cpm_abs(before, during), hb && hd), d);
	add_row(b, QST_PD_CPM, c->number,
		need(qst_cpm_pct(before, during), hb && hd), d);
	add_row(b, QST_PD_CPM, c->number, need(inhib, hb && hd), d);
	add_row(b, QST_PD_CPM, c->number,
		need(qst_cpm_early(QST_TS_RATING, before, during), hb && hd),
		d);
	if (c->marked[PH_AFTER])
		add_row(b, QST_PD_CPM, c->number,
			need(qst_cpm_late(QST_TS_RATING, before,
					  phase_mean(c, PH_AFTER)),
			     hb && c->n[PH_AFTER] > 0), d);
	/* §6.3 responder rule: 2 × the within-subject SD of the repeated
	 * baseline (before) ratings; undefined with fewer than two. */
	double *ts = calloc(c->n[PH_BEFORE] + 1, sizeof(*ts));
	size_t k = 0;
	for (size_t i = 0; ts && i < in->n_points; i++)
		if (in->phase[i] == PH_BEFORE)
			ts[k++] = in->points[i].v;
	struct qst_index sem = qst_ts_sem(ts, k);
	struct qst_index resp = qst_cpm_responder(inhib.value, sem.value);
	if (!qst_index_defined(&sem))
		resp.flags = sem.flags;
	add_row(b, QST_PD_CPM, c->number, resp, d);
	free(ts);
	if (!ts)
		b->rc = QST_ERR_NOMEM;
}

static void cpm_rating(struct builder *b, struct cpm_block *c,
		       struct qst_pd_instance *in, int phase,
		       const struct qst_pd_event *e)
{
	c->sum[phase] += e->value2;
	c->n[phase]++;
	if (add_point(b, in, secs(e->t_ns), e->value2, phase))
		in->t1 = secs(e->t_ns);
}

/* Blocks start at cpm:before (or a cpm:during without one); ratings
 * belong to the phase of the last mark (cpm:ts_c only names the TS). */
static void find_cpm(struct builder *b, const struct qst_streams *s)
{
	struct cpm_block c = { 0 };
	struct qst_pd_instance *in = NULL;
	int phase = PH_NONE;
	double ts_c = NAN;
	for (size_t i = 0; i < s->n_events && b->rc == QST_OK; i++) {
		const struct qst_pd_event *e = &s->events[i];
		if (in && e->code == s->codes.rating && phase != PH_NONE)
			cpm_rating(b, &c, in, phase, e);
		if (!is_mark(s, e))
			continue;
		if (!strcmp(e->message, "cpm:ts_c")) {
			/* Usually set before the block starts; it holds
			 * for the blocks after it until marked again. */
			ts_c = e->value;
			if (in)
				in->ts_c = ts_c;
			continue;
		}
		phase = cpm_phase(e->message);
		if (phase == PH_BEFORE || (phase == PH_DURING && !in) ||
		    (phase != PH_NONE && c.marked[phase])) {
			if (in)
				score_cpm(b, &c, in);
			c = (struct cpm_block){ .number = c.number + 1 };
			in = add_inst(b, QST_PD_CPM, c.number);
			if (in) {
				in->t0 = in->t1 = secs(e->t_ns);
				in->ts_c = ts_c;
			}
		}
		if (phase != PH_NONE)
			c.marked[phase] = true;
	}
	if (in && b->rc == QST_OK)
		score_cpm(b, &c, in);
}

/* -------------------------------------------------------------- OA */

struct oa_trial {
	double mark, end, t2, t3; /* session s; T2, T3 from the mark */
	double wave_end;          /* end of its waveform from the mark, NaN */
	double *t, *v;            /* the trace on mark time */
	size_t n;
};

/* The /rating samples in [mark, end) on mark-relative time. */
static bool oa_trace(const struct qst_streams *s, struct oa_trial *tr)
{
	tr->t = calloc(s->n_rating + 1, sizeof(double));
	tr->v = calloc(s->n_rating + 1, sizeof(double));
	if (!tr->t || !tr->v)
		return false;
	for (size_t i = 0; i < s->n_rating; i++) {
		double t = secs(s->rating[i].t_ns);
		if (t < tr->mark || t >= tr->end)
			continue;
		tr->t[tr->n] = t - tr->mark;
		tr->v[tr->n++] = s->rating[i].v;
	}
	return true;
}

/* Every oa:LABEL mark in order, with its trace up to the next mark. */
static size_t oa_trials(const struct qst_streams *s, const char *label,
			struct oa_trial *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_events && n < max; i++) {
		const struct qst_pd_event *e = &s->events[i];
		if (!is_mark(s, e) || strcmp(e->message, label))
			continue;
		struct oa_trial *tr = &out[n++];
		*tr = (struct oa_trial){ secs(e->t_ns), INFINITY, e->value,
					 e->value2, NAN, NULL, NULL, 0 };
		for (size_t j = i + 1; j < s->n_events; j++) {
			const struct qst_pd_event *x = &s->events[j];
			if (x->code == s->codes.stim_waveform &&
			    isnan(tr->wave_end))
				tr->wave_end = secs(x->t_ns) - tr->mark +
					       x->span_s;
			if (is_mark(s, x) || x->code == s->codes.session_end) {
				tr->end = secs(x->t_ns);
				break;
			}
		}
	}
	return n;
}

static double trace_end(const struct oa_trial *tr)
{
	return tr->n ? tr->t[tr->n - 1] : NAN;
}

static void score_oa(struct builder *b, const struct oa_trial *off,
		     const struct oa_trial *con, int number)
{
	struct qst_trace o = { off->t, off->v, off->n };
	struct qst_trace c = { con->t, con->v, con->n };
	/* T3 ends with the offset trial's waveform (the slider goes on
	 * through the rest after it), and where a trace ends: time
	 * matching needs both. */
	double t3_end = fmin(trace_end(off), trace_end(con));
	if (isfinite(off->wave_end))
		t3_end = fmin(t3_end, off->wave_end);
	struct qst_pd_instance *in = add_inst(b, QST_PD_OA, number);
	if (!in)
		return;
	*in = (struct qst_pd_instance){
		.paradigm = QST_PD_OA, .instance = number, .ts_c = NAN,
		.t0 = fmin(off->mark, con->mark), .mark_offset = off->mark,
		.mark_control = con->mark, .end_offset = off->end,
		.end_control = con->end, .t2 = off->t2, .t3 = off->t3,
		.t3_end = t3_end, .t_min = NAN,
	};
	char d[96];
	struct qst_index m = qst_oa_abs_min(&c, &o, off->t3, t3_end, OA_GRID_S,
					    &in->t_min);
	snprintf(d, sizeof(d), "pair %d: T3 %.1f..%.1f s after the mark, "
		 "t* %.1f s", number, off->t3, t3_end, in->t_min);
	add_row(b, QST_PD_OA, number, m, d);
	for (size_t k = 0; k < sizeof(oa_fixed_s) / sizeof(oa_fixed_s[0]);
	     k++) {
		snprintf(d, sizeof(d), "pair %d: T3 start + %g s", number,
			 oa_fixed_s[k]);
		add_row(b, QST_PD_OA, number,
			qst_oa_abs_at(&c, &o, off->t3 + oa_fixed_s[k]), d);
	}
	snprintf(d, sizeof(d), "pair %d: T2 %.1f..%.1f s, T3 %.1f..%.1f s",
		 number, off->t2, off->t3, off->t3, t3_end);
	add_row(b, QST_PD_OA, number,
		qst_oa_pct_trace(&o, off->t2, off->t3, off->t3, t3_end), d);
}

/* The i-th oa:offset mark pairs with the i-th oa:control mark. */
static void find_oa(struct builder *b, const struct qst_streams *s)
{
	size_t max = s->n_events + 1;
	struct oa_trial *off = calloc(max, sizeof(*off));
	struct oa_trial *con = calloc(max, sizeof(*con));
	size_t no = off ? oa_trials(s, "oa:offset", off, max) : 0;
	size_t nc = con ? oa_trials(s, "oa:control", con, max) : 0;
	if (!off || !con)
		b->rc = QST_ERR_NOMEM;
	for (size_t i = 0; i < no && i < nc && b->rc == QST_OK; i++) {
		if (!oa_trace(s, &off[i]) || !oa_trace(s, &con[i]))
			b->rc = QST_ERR_NOMEM;
		else
			score_oa(b, &off[i], &con[i], (int)i + 1);
	}
	for (size_t i = 0; off && con && i < max; i++) {
		free(off[i].t);
		free(off[i].v);
		free(con[i].t);
		free(con[i].v);
	}
	free(off);
	free(con);
}

/* ------------------------------------------------------------- API */

int qst_paradigms_compute(const struct qst_streams *s,
			  struct qst_paradigms **out)
{
	if (!s || !out)
		return QST_ERR_ARG;
	*out = NULL;
	struct builder b = { calloc(1, sizeof(*b.pd)), 0, 0, QST_OK };
	if (!b.pd)
		return QST_ERR_NOMEM;
	find_trains(&b, s);
	if (b.rc == QST_OK)
		find_cpm(&b, s);
	if (b.rc == QST_OK)
		find_oa(&b, s);
	if (b.rc) {
		qst_paradigms_free(b.pd);
		return b.rc;
	}
	*out = b.pd;
	return QST_OK;
}

void qst_paradigms_free(struct qst_paradigms *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_inst; i++) {
		free(p->inst[i].points);
		free(p->inst[i].phase);
	}
	free(p->inst);
	free(p->rows);
	free(p);
}

const char *qst_index_row_unit(const struct qst_index_row *r)
{
	const struct qst_index_info *info = qst_index_info(r->ix.variant);
	if (!info)
		return "";
	/* Every paradigm here is scored on the 0-100 rating scale (NRS
	 * events, /rating slider): "input" is that scale. */
	return strcmp(info->unit, "input") ? info->unit : "rating 0-100";
}

void qst_index_flags_format(unsigned flags, char *buf, size_t len)
{
	size_t used = 0;
	if (len)
		buf[0] = '\0';
	for (unsigned bit = 0; bit < QST_IDX_FLAG_BITS && len; bit++) {
		if (!(flags & (1u << bit)))
			continue;
		int w = snprintf(buf + used, len - used, "%s%s",
				 used ? "," : "",
				 qst_index_flag_name(1u << bit));
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}
