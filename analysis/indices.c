/*
 * Sensitization indices (qst-domain.md §6.1, §6.3, §6.4, §6.6) and the
 * two-rate reaction-time correction (§7.1). Each variant's name, formula
 * and sign convention live in one table, so that what is stored as an
 * attribute and what is computed cannot drift apart.
 */
#include <math.h>

#include "qst_indices.h"

/* §6.6 option 3, §3.5: outside the two-sided 95 % interval. */
#define REMOTE_Z_LIMIT 1.96

/* Order matches enum qst_index_variant. */
static const struct qst_index_info index_table[QST_IX_COUNT] = {
	{ QST_IX_TSP_DIFF, "tsp.diff", "R_last - R_first",
	  "positive = summation (the last rating is higher)", "input",
	  "qst-domain.md §6.1" },
	{ QST_IX_TSP_MAX, "tsp.max", "max_k R_k - R_first",
	  "positive = summation; never negative", "input",
	  "qst-domain.md §6.1" },
	{ QST_IX_TSP_FROM_MIN, "tsp.from_min", "R_last - min_k R_k",
	  "positive = summation; never negative", "input",
	  "qst-domain.md §6.1" },
	{ QST_IX_TSP_RATIO, "tsp.ratio", "R_last / R_first",
	  "> 1 = summation; undefined if R_first = 0", "ratio",
	  "qst-domain.md §6.1" },
	{ QST_IX_TS_TONIC, "ts_tonic.end_nadir",
	  "VAS_end - min(VAS after the initial peak)",
	  "positive = summation after the nadir; never negative", "input",
	  "qst-domain.md §6.1 (Suzan 2015)" },
	{ QST_IX_CPM_ABS, "cpm.abs", "TS_cond - TS_base",
	  "TS unit; rating TS: negative = inhibition; threshold TS: positive "
	  "= inhibition", "input", "qst-domain.md §6.3" },
	{ QST_IX_CPM_PCT, "cpm.pct", "100 * (TS_cond - TS_base) / TS_base",
	  "as cpm.abs; undefined if TS_base = 0", "%", "qst-domain.md §6.3" },
	{ QST_IX_CPM_INHIBITION, "cpm.inhibition_positive",
	  "sign_TS * (TS_cond - TS_base), sign_TS = -1 rating, +1 threshold",
	  "positive = inhibition", "input", "qst-domain.md §6.3" },
	{ QST_IX_CPM_EARLY, "cpm.early", "sign_TS * (TS_during - TS_before)",
	  "positive = inhibition (ratings: NRS_before - NRS_during)", "input",
	  "qst-domain.md §6.3" },
	{ QST_IX_CPM_LATE, "cpm.late", "sign_TS * (TS_after - TS_before)",
	  "positive = inhibition (ratings: NRS_before - NRS_after)", "input",
	  "qst-domain.md §6.3" },
	{ QST_IX_CPM_RESPONDER, "cpm.responder",
	  "+1 if inhibition_positive > 2 SEM, -1 if < -2 SEM, else 0",
	  "+1 = inhibitory responder, -1 = facilitation beyond 2 SEM", "class",
	  "qst-domain.md §6.3 (Kennedy)" },
	{ QST_IX_OA_ABS, "oa.abs",
	  "VAS_control(t) - VAS_offset(t), linear interpolation at t",
	  "positive = offset analgesia", "input", "qst-domain.md §6.4" },
	{ QST_IX_OA_ABS_MIN, "oa.abs_min",
	  "VAS_control(t*) - VAS_offset(t*), t* = argmin VAS_offset in T3 on "
	  "a common grid", "positive = offset analgesia", "input",
	  "qst-domain.md §6.4" },
	{ QST_IX_OA_PCT, "oa.pct",
	  "100 * (VAS_T2max - VAS_T3min) / VAS_T2max",
	  "positive = pain fell after the offset; undefined if VAS_T2max = 0",
	  "%", "qst-domain.md §6.4 [U]" },
	{ QST_IX_PPT_SIDE_PCT, "ppt.side_pct",
	  "100 * (PPT_affected - PPT_control) / PPT_control",
	  "negative = affected side more sensitive (lower PPT)", "%",
	  "qst-domain.md §6.6" },
	{ QST_IX_PPT_REMOTE_COUNT, "ppt.remote_count",
	  "count of remote sites with z > +1.96",
	  "higher = more widespread hyperalgesia (DFNS z: positive = gain)",
	  "count", "qst-domain.md §6.6" },
	{ QST_IX_RT_TWO_RATE, "rt.two_rate", "(T2 - T1) / (r2 - r1)",
	  "seconds, >= 0 if plausible", "s", "qst-domain.md §7.1" },
	{ QST_IX_T_TRUE_TWO_RATE, "t_true.two_rate", "T1 - r1 * RT",
	  "degC; NEVER z-score against DFNS (collected with the RT artefact)",
	  "degC", "qst-domain.md §7.1" },
};

const struct qst_index_info *qst_index_info(int variant)
{
	if (variant < 0 || variant >= QST_IX_COUNT)
		return NULL;
	return &index_table[variant];
}

const char *qst_index_flag_name(unsigned bit)
{
	static const char *const names[QST_IDX_FLAG_BITS] = {
		"undefined", "empty",   "nan_input", "zero_base",  "no_peak",
		"out_of_range", "unsorted", "partial", "implausible",
	};
	for (int i = 0; i < QST_IDX_FLAG_BITS; i++)
		if (bit == (1u << i))
			return names[i];
	return "unknown";
}

static struct qst_index defined(enum qst_index_variant v, double value)
{
	return (struct qst_index){ v, value, 0 };
}

static struct qst_index undefined(enum qst_index_variant v, unsigned why)
{
	return (struct qst_index){ v, NAN, QST_IDX_UNDEFINED | why };
}

static bool all_finite(const double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return false;
	return true;
}

/* -------------------------------------------------------------- TSP */

static bool is_tsp(enum qst_index_variant v)
{
	return v == QST_IX_TSP_DIFF || v == QST_IX_TSP_MAX ||
	       v == QST_IX_TSP_FROM_MIN || v == QST_IX_TSP_RATIO;
}

struct qst_index qst_tsp(enum qst_index_variant variant, const double *r,
			 size_t n)
{
	if (!is_tsp(variant))
		variant = QST_IX_TSP_DIFF; /* keep the struct well-formed */
	if (!r || n == 0)
		return undefined(variant, QST_IDX_EMPTY);
	if (!all_finite(r, n))
		return undefined(variant, QST_IDX_NAN_INPUT);
	double lo = r[0], hi = r[0];
	for (size_t i = 1; i < n; i++) {
		lo = fmin(lo, r[i]);
		hi = fmax(hi, r[i]);
	}
	double first = r[0], last = r[n - 1];
	switch (variant) {
	case QST_IX_TSP_MAX: /* §6.1: max_k R_k − R_first */
		return defined(variant, hi - first);
	case QST_IX_TSP_FROM_MIN: /* §6.1: R_last − min_k R_k (CHEPS pilot) */
		return defined(variant, last - lo);
	case QST_IX_TSP_RATIO: /* §6.1: undefined if R_first = 0, flagged */
		if (first == 0.0)
			return undefined(variant, QST_IDX_ZERO_BASE);
		return defined(variant, last / first);
	default: /* §6.1: R_last − R_first (Staud, Medoc) */
		return defined(variant, last - first);
	}
}

/* Index of the initial peak: the running maximum at the first sample more
 * than min_drop below it; n when the trace never falls that far. */
static size_t initial_peak(const double *v, size_t n, double min_drop)
{
	size_t peak = 0;
	for (size_t i = 1; i < n; i++) {
		if (v[i] > v[peak])
			peak = i;
		else if (v[i] < v[peak] - min_drop)
			return peak;
	}
	return n;
}

struct qst_index qst_ts_tonic(const double *vas, size_t n, double min_drop)
{
	enum qst_index_variant v = QST_IX_TS_TONIC;
	if (!vas || n == 0)
		return undefined(v, QST_IDX_EMPTY);
	if (!all_finite(vas, n) || !isfinite(min_drop) || min_drop < 0.0)
		return undefined(v, QST_IDX_NAN_INPUT);
	/* §6.1 [U exact definition]: nadir after the initial peak, so the
	 * low ratings before the peak (the rise) are not the nadir. */
	size_t peak = initial_peak(vas, n, min_drop);
	if (peak == n)
		return undefined(v, QST_IDX_NO_PEAK);
	double nadir = vas[peak];
	for (size_t i = peak + 1; i < n; i++)
		nadir = fmin(nadir, vas[i]);
	return defined(v, vas[n - 1] - nadir);
}

/* -------------------------------------------------------------- CPM */

static bool finite2(double a, double b)
{
	return isfinite(a) && isfinite(b);
}

struct qst_index qst_cpm_abs(double ts_base, double ts_cond)
{
	if (!finite2(ts_base, ts_cond))
		return undefined(QST_IX_CPM_ABS, QST_IDX_NAN_INPUT);
	return defined(QST_IX_CPM_ABS, ts_cond - ts_base); /* §6.3 */
}

struct qst_index qst_cpm_pct(double ts_base, double ts_cond)
{
	if (!finite2(ts_base, ts_cond))
		return undefined(QST_IX_CPM_PCT, QST_IDX_NAN_INPUT);
	if (ts_base == 0.0) /* §6.3: undefined if TS_base = 0 */
		return undefined(QST_IX_CPM_PCT, QST_IDX_ZERO_BASE);
	return defined(QST_IX_CPM_PCT, 100.0 * (ts_cond - ts_base) / ts_base);
}

static struct qst_index signed_change(enum qst_index_variant v,
				      enum qst_ts_kind kind, double before,
				      double after)
{
	if (!finite2(before, after) ||
	    (kind != QST_TS_RATING && kind != QST_TS_THRESHOLD))
		return undefined(v, QST_IDX_NAN_INPUT);
	/* §6.3: sign_TS = −1 for ratings, +1 for thresholds, so that
	 * positive always means inhibition. */
	return defined(v, (double)kind * (after - before));
}

struct qst_index qst_cpm_inhibition(enum qst_ts_kind kind, double ts_base,
				    double ts_cond)
{
	return signed_change(QST_IX_CPM_INHIBITION, kind, ts_base, ts_cond);
}

struct qst_index qst_cpm_early(enum qst_ts_kind kind, double ts_before,
			       double ts_during)
{
	/* §6.3 heat–cold paradigm: early CPM = NRS_before − NRS_during. */
	return signed_change(QST_IX_CPM_EARLY, kind, ts_before, ts_during);
}

struct qst_index qst_cpm_late(enum qst_ts_kind kind, double ts_before,
			      double ts_after)
{
	/* §6.3: late CPM = NRS_before − NRS_after. */
	return signed_change(QST_IX_CPM_LATE, kind, ts_before, ts_after);
}

struct qst_index qst_ts_sem(const double *ts, size_t n)
{
	/* Reported under the responder variant: it only serves that rule. */
	enum qst_index_variant v = QST_IX_CPM_RESPONDER;
	if (!ts || n < 2)
		return undefined(v, QST_IDX_EMPTY);
	if (!all_finite(ts, n))
		return undefined(v, QST_IDX_NAN_INPUT);
	double mean = 0.0;
	for (size_t i = 0; i < n; i++)
		mean += ts[i];
	mean /= (double)n;
	double ss = 0.0;
	for (size_t i = 0; i < n; i++)
		ss += (ts[i] - mean) * (ts[i] - mean);
	return defined(v, sqrt(ss / (double)(n - 1)));
}

struct qst_index qst_cpm_responder(double inhibition_positive, double sem)
{
	enum qst_index_variant v = QST_IX_CPM_RESPONDER;
	if (!isfinite(inhibition_positive) || !isfinite(sem))
		return undefined(v, QST_IDX_NAN_INPUT);
	if (sem <= 0.0)
		return undefined(v, QST_IDX_ZERO_BASE);
	/* §6.3 (Kennedy): a CPM is real if it exceeds 2 × SEM of the TS. */
	if (inhibition_positive > 2.0 * sem)
		return defined(v, 1.0);
	if (inhibition_positive < -2.0 * sem)
		return defined(v, -1.0);
	return defined(v, 0.0);
}

/* --------------------------------------------------------------- OA */

/* Checks shared by every trace: QST_IDX_* flags, 0 when usable. */
static unsigned trace_problem(const double *t, const double *v, size_t n)
{
	if (!t || !v || n == 0)
		return QST_IDX_UNDEFINED | QST_IDX_EMPTY;
	if (!all_finite(t, n) || !all_finite(v, n))
		return QST_IDX_UNDEFINED | QST_IDX_NAN_INPUT;
	for (size_t i = 1; i < n; i++)
		if (!(t[i] > t[i - 1]))
			return QST_IDX_UNDEFINED | QST_IDX_UNSORTED;
	return 0;
}

/* Linear interpolation at x inside [t[0], t[n-1]]; NaN outside. The
 * caller has checked the trace. */
static double interpolate(const double *t, const double *v, size_t n,
			  double x)
{
	if (!(x >= t[0] && x <= t[n - 1]))
		return NAN;
	size_t lo = 0, hi = n - 1;
	while (hi - lo > 1) { /* t[lo] <= x <= t[hi] */
		size_t mid = lo + (hi - lo) / 2;
		if (t[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	if (hi == lo)
		return v[lo];
	double w = (x - t[lo]) / (t[hi] - t[lo]);
	return v[lo] + w * (v[hi] - v[lo]);
}

unsigned qst_resample_linear(const double *t, const double *v, size_t n,
			     double t0, double dt, size_t m, double *out)
{
	unsigned bad = trace_problem(t, v, n);
	if (!out || m == 0 || !isfinite(t0) || !isfinite(dt) || dt <= 0.0)
		bad |= QST_IDX_UNDEFINED | QST_IDX_EMPTY;
	if (bad)
		return bad;
	unsigned flags = 0;
	for (size_t k = 0; k < m; k++) {
		/* t0 + k·dt, not a running sum: no drift over long grids. */
		out[k] = interpolate(t, v, n, t0 + (double)k * dt);
		if (isnan(out[k]))
			flags |= QST_IDX_OUT_OF_RANGE;
	}
	return flags;
}

static unsigned traces_problem(const struct qst_trace *a,
			       const struct qst_trace *b)
{
	if (!a || !b)
		return QST_IDX_UNDEFINED | QST_IDX_EMPTY;
	return trace_problem(a->t, a->v, a->n) | trace_problem(b->t, b->v, b->n);
}

struct qst_index qst_oa_abs_at(const struct qst_trace *control,
			       const struct qst_trace *offset, double t)
{
	enum qst_index_variant v = QST_IX_OA_ABS;
	unsigned bad = traces_problem(control, offset);
	if (bad)
		return undefined(v, bad);
	/* §6.4: time-matched, each trace on its own timestamps. */
	double c = interpolate(control->t, control->v, control->n, t);
	double o = interpolate(offset->t, offset->v, offset->n, t);
	if (isnan(c) || isnan(o))
		return undefined(v, QST_IDX_OUT_OF_RANGE);
	return defined(v, c - o);
}

/* Grid points over [start, end] at step dt (end included when on the
 * grid); 0 when the window is empty or too fine to be sane. */
static size_t grid_points(double start, double end, double dt)
{
	if (!isfinite(start) || !isfinite(end) || !isfinite(dt) || dt <= 0.0 ||
	    end < start)
		return 0;
	double k = floor((end - start) / dt + 1e-9);
	return k > 1e6 ? 0 : (size_t)k + 1;
}

struct qst_index qst_oa_abs_min(const struct qst_trace *control,
				const struct qst_trace *offset,
				double t3_start, double t3_end, double dt,
				double *t_min)
{
	enum qst_index_variant v = QST_IX_OA_ABS_MIN;
	if (t_min)
		*t_min = NAN;
	unsigned bad = traces_problem(control, offset);
	if (bad)
		return undefined(v, bad);
	size_t m = grid_points(t3_start, t3_end, dt);
	if (m == 0)
		return undefined(v, QST_IDX_OUT_OF_RANGE);
	/* §6.4: "minimum pain after the decrease relative to the
	 * time-related constant-stimulus rating", on a common grid. */
	size_t best = m;
	double best_o = INFINITY, best_c = NAN;
	for (size_t k = 0; k < m; k++) {
		double x = t3_start + (double)k * dt;
		double o = interpolate(offset->t, offset->v, offset->n, x);
		double c = interpolate(control->t, control->v, control->n, x);
		if (!isnan(o) && !isnan(c) && o < best_o) {
			best = k;
			best_o = o;
			best_c = c;
		}
	}
	if (best == m)
		return undefined(v, QST_IDX_OUT_OF_RANGE);
	if (t_min)
		*t_min = t3_start + (double)best * dt;
	return defined(v, best_c - best_o);
}

struct qst_index qst_oa_pct(double vas_t2_max, double vas_t3_min)
{
	enum qst_index_variant v = QST_IX_OA_PCT;
	if (!finite2(vas_t2_max, vas_t3_min))
		return undefined(v, QST_IDX_NAN_INPUT);
	if (vas_t2_max == 0.0)
		return undefined(v, QST_IDX_ZERO_BASE);
	/* §6.4 [U]: widely used, not confirmed in the primary source. */
	return defined(v, 100.0 * (vas_t2_max - vas_t3_min) / vas_t2_max);
}

/* Extreme of the raw samples within [lo, hi]; NaN when none lies there. */
static double window_extreme(const struct qst_trace *tr, double lo,
			     double hi, bool want_max)
{
	double best = NAN;
	for (size_t i = 0; i < tr->n; i++) {
		if (tr->t[i] < lo || tr->t[i] > hi)
			continue;
		if (isnan(best) || (want_max ? tr->v[i] > best : tr->v[i] < best))
			best = tr->v[i];
	}
	return best;
}

struct qst_index qst_oa_pct_trace(const struct qst_trace *offset,
				  double t2_start, double t2_end,
				  double t3_start, double t3_end)
{
	if (!offset)
		return undefined(QST_IX_OA_PCT, QST_IDX_EMPTY);
	unsigned bad = trace_problem(offset->t, offset->v, offset->n);
	if (bad)
		return undefined(QST_IX_OA_PCT, bad);
	double t2max = window_extreme(offset, t2_start, t2_end, true);
	double t3min = window_extreme(offset, t3_start, t3_end, false);
	if (isnan(t2max) || isnan(t3min))
		return undefined(QST_IX_OA_PCT, QST_IDX_OUT_OF_RANGE);
	return qst_oa_pct(t2max, t3min);
}

/* ------------------------------------------------------- remote PPT */

struct qst_index qst_ppt_side_pct(double ppt_affected, double ppt_control)
{
	enum qst_index_variant v = QST_IX_PPT_SIDE_PCT;
	if (!finite2(ppt_affected, ppt_control))
		return undefined(v, QST_IDX_NAN_INPUT);
	if (ppt_control == 0.0)
		return undefined(v, QST_IDX_ZERO_BASE);
	/* §6.6 option 2 (Pfau 2014: > 35 % side difference abnormal). */
	return defined(v, 100.0 * (ppt_affected - ppt_control) / ppt_control);
}

struct qst_index qst_ppt_remote_count(const double *z, size_t n)
{
	enum qst_index_variant v = QST_IX_PPT_REMOTE_COUNT;
	if (!z || n == 0)
		return undefined(v, QST_IDX_EMPTY);
	size_t used = 0, count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(z[i]))
			continue;
		used++;
		if (z[i] > REMOTE_Z_LIMIT) /* §6.6 option 3 [D] */
			count++;
	}
	if (used == 0)
		return undefined(v, QST_IDX_NAN_INPUT);
	struct qst_index ix = defined(v, (double)count);
	if (used < n) /* a skipped site might have counted */
		ix.flags |= QST_IDX_PARTIAL;
	return ix;
}

/* ---------------------------------------------------- RT correction */

void qst_rt_two_rate(double t1, double r1, double t2, double r2,
		     struct qst_index *rt, struct qst_index *t_true)
{
	struct qst_index a, b;
	if (!finite2(t1, r1) || !finite2(t2, r2)) {
		a = undefined(QST_IX_RT_TWO_RATE, QST_IDX_NAN_INPUT);
		b = undefined(QST_IX_T_TRUE_TWO_RATE, QST_IDX_NAN_INPUT);
	} else if (r1 == r2) {
		a = undefined(QST_IX_RT_TWO_RATE, QST_IDX_ZERO_BASE);
		b = undefined(QST_IX_T_TRUE_TWO_RATE, QST_IDX_ZERO_BASE);
	} else {
		/* §7.1 [D]: T_obs = T_true + r × RT at two rates. */
		double v = (t2 - t1) / (r2 - r1);
		a = defined(QST_IX_RT_TWO_RATE, v);
		b = defined(QST_IX_T_TRUE_TWO_RATE, t1 - r1 * v);
		if (v < 0.0) { /* the faster ramp gave the lower threshold */
			a.flags |= QST_IDX_IMPLAUSIBLE;
			b.flags |= QST_IDX_IMPLAUSIBLE;
		}
	}
	if (rt)
		*rt = a;
	if (t_true)
		*t_true = b;
}
