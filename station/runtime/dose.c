/*
 * The thermal dose guard (qst_supervisor.h; qst-domain.md §8.2 interlock
 * 2). Exposure is kept as spans of time above the threshold; spans that
 * left every possible window are dropped, so the table stays small.
 */
#define LOG_PREFIX "dose: "

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qst_supervisor.h"

void qst_dose_init(struct qst_dose_guard *g, const struct qst_thermal_limits *lim)
{
	memset(g, 0, sizeof(*g));
	g->threshold_c = lim->dose_threshold_c;
	g->budget_s = lim->dose_budget_s;
	g->window_ns = qst_s_to_ns(lim->dose_window_s);
}

static void drop_spans(struct qst_dose_guard *g, int n)
{
	memmove(g->span, g->span + n, (size_t)(g->n_spans - n) * sizeof(g->span[0]));
	g->n_spans -= n;
}

/* Room for one more span: drop those no window can see any more; if all
 * are recent, merge the two oldest, which over-counts the gap between
 * them — the safe side. */
static void make_room(struct qst_dose_guard *g, int64_t now_ns)
{
	int old = 0;
	while (old < g->n_spans && g->span[old].to_ns < now_ns - g->window_ns)
		old++;
	drop_spans(g, old);
	if (g->n_spans < QST_DOSE_MAX_SPANS)
		return;
	g->span[1].from_ns = g->span[0].from_ns;
	drop_spans(g, 1);
}

void qst_dose_note(struct qst_dose_guard *g, int64_t t_ns, double measured_c)
{
	bool above = measured_c > g->threshold_c;
	if (above && g->above && g->n_spans > 0 &&
	    g->span[g->n_spans - 1].to_ns == g->last_t_ns) {
		g->span[g->n_spans - 1].to_ns = t_ns;
	} else if (above && g->above) {
		make_room(g, t_ns);
		g->span[g->n_spans].from_ns = g->last_t_ns;
		g->span[g->n_spans].to_ns = t_ns;
		g->n_spans++;
	}
	g->above = above;
	g->last_t_ns = t_ns;
}

double qst_dose_exposed_s(const struct qst_dose_guard *g, int64_t from_ns,
			  int64_t to_ns)
{
	int64_t total = 0;
	for (int i = 0; i < g->n_spans; i++) {
		int64_t a = g->span[i].from_ns > from_ns ? g->span[i].from_ns : from_ns;
		int64_t b = g->span[i].to_ns < to_ns ? g->span[i].to_ns : to_ns;
		if (b > a)
			total += b - a;
	}
	return qst_ns_to_s(total);
}

/* Time a linear leg from a to b at rate spends above t. */
static double leg_above_s(double t, double a, double b, double rate)
{
	double lo = fmin(a, b), hi = fmax(a, b);
	if (hi <= t || rate <= 0)
		return 0.0;
	return (hi - fmax(lo, t)) / rate;
}

double qst_dose_stimulus_s(double threshold_c, double from_c, double target_c,
			   double rate_c_s, double hold_s, double return_c_s,
			   double neutral_c)
{
	double s = leg_above_s(threshold_c, from_c, target_c, rate_c_s) +
		   leg_above_s(threshold_c, target_c, neutral_c, return_c_s);
	if (target_c > threshold_c)
		s += hold_s;
	return s;
}

static double leg_s(double a, double b, double rate)
{
	return rate > 0 ? fabs(b - a) / rate : 0.0;
}

/* A waveform segment from a to b lasting d seconds: a hold when flat. */
static double segment_above_s(double th, double a, double b, double d)
{
	if (a == b)
		return a > th ? d : 0.0;
	return leg_above_s(th, a, b, fabs(b - a) / d);
}

double qst_dose_waveform_s(double threshold_c, double from_c,
			   const struct qst_wave_segment *seg, size_t n,
			   double return_c_s, double neutral_c)
{
	double above = 0.0;
	for (size_t i = 0; i < n; i++) {
		above += segment_above_s(threshold_c, from_c, seg[i].to_c,
					 seg[i].duration_s);
		from_c = seg[i].to_c;
	}
	return above + leg_above_s(threshold_c, from_c, neutral_c, return_c_s);
}

/*
 * Whether a stimulus lasting length_s from now and adding dose seconds
 * above the threshold keeps the window's budget; what names it in the
 * refusal ("stimulus", "waveform").
 */
static int check_budget(const struct qst_dose_guard *g, int64_t now_ns,
			double length_s, double dose, const char *what,
			char *why, size_t whylen)
{
	if (dose <= 0.0)
		return QST_OK;
	int64_t end = now_ns + qst_s_to_ns(length_s);
	double before = qst_dose_exposed_s(g, end - g->window_ns, now_ns);
	if (before + dose <= g->budget_s)
		return QST_OK;
	snprintf(why, whylen,
		 "thermal dose: %.1f s above %.0f degC in %.0f min (%.1f s so far, "
		 "%.1f s for this %s) would exceed the %.0f s budget "
		 "(qst-domain 8.2 interlock 2)", before + dose, g->threshold_c,
		 qst_ns_to_s(g->window_ns) / 60.0, before, dose, what, g->budget_s);
	qst_warn("refused: %s", why);
	return QST_ERR_LIMIT;
}

int qst_dose_check_waveform(const struct qst_dose_guard *g, int64_t now_ns,
			    double from_c, const struct qst_wave_segment *seg,
			    size_t n, double return_c_s, double neutral_c,
			    char *why, size_t whylen)
{
	double dose = qst_dose_waveform_s(g->threshold_c, from_c, seg, n,
					  return_c_s, neutral_c);
	double length_s = 0.0;
	for (size_t i = 0; i < n; i++)
		length_s += seg[i].duration_s;
	length_s += leg_s(n ? seg[n - 1].to_c : from_c, neutral_c, return_c_s);
	return check_budget(g, now_ns, length_s, dose, "waveform", why, whylen);
}

int qst_dose_check_stimulus(const struct qst_dose_guard *g, int64_t now_ns,
			    double from_c, double target_c, double rate_c_s,
			    double hold_s, double return_c_s, double neutral_c,
			    char *why, size_t whylen)
{
	double dose = qst_dose_stimulus_s(g->threshold_c, from_c, target_c,
					  rate_c_s, hold_s, return_c_s, neutral_c);
	double length_s = leg_s(from_c, target_c, rate_c_s) + hold_s +
			  leg_s(target_c, neutral_c, return_c_s);
	return check_budget(g, now_ns, length_s, dose, "stimulus", why, whylen);
}

int qst_dose_check_now(const struct qst_dose_guard *g, int64_t now_ns,
		       char *why, size_t whylen)
{
	double exposed = qst_dose_exposed_s(g, now_ns - g->window_ns, now_ns);
	if (exposed <= g->budget_s)
		return QST_OK;
	snprintf(why, whylen,
		 "thermal dose: the thermode has read above %.0f degC for %.1f s "
		 "in the last %.0f min, over the %.0f s budget "
		 "(qst-domain 8.2 interlock 2)", g->threshold_c, exposed,
		 qst_ns_to_s(g->window_ns) / 60.0, g->budget_s);
	return QST_ERR_LIMIT;
}
