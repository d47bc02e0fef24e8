/*
 * qst indices — sensitization indices beyond DFNS (qst-domain.md §6) and
 * the two-rate reaction-time correction (§7.1). Every index comes back as
 * a struct qst_index: the value, flags saying why it is undefined or what
 * was done to get it, and its variant, whose stable name, formula and
 * sign convention (qst_index_info) are stored beside it as attributes so
 * that analysts can re-score (§6 "General rules", §10.2 /indices/<name>).
 * docs/indices.md lists them with worked examples.
 *
 * Pure functions: no I/O, inputs are never modified.
 */
#ifndef QST_ANALYSIS_QST_INDICES_H
#define QST_ANALYSIS_QST_INDICES_H

#include <stdbool.h>
#include <stddef.h>

/* Index variants. Append only: the code may be stored. */
enum qst_index_variant {
	QST_IX_TSP_DIFF = 0,      /* "tsp.diff" */
	QST_IX_TSP_MAX,           /* "tsp.max" */
	QST_IX_TSP_FROM_MIN,      /* "tsp.from_min" */
	QST_IX_TSP_RATIO,         /* "tsp.ratio" */
	QST_IX_TS_TONIC,          /* "ts_tonic.end_nadir" */
	QST_IX_CPM_ABS,           /* "cpm.abs" */
	QST_IX_CPM_PCT,           /* "cpm.pct" */
	QST_IX_CPM_INHIBITION,    /* "cpm.inhibition_positive" */
	QST_IX_CPM_EARLY,         /* "cpm.early" */
	QST_IX_CPM_LATE,          /* "cpm.late" */
	QST_IX_CPM_RESPONDER,     /* "cpm.responder" */
	QST_IX_OA_ABS,            /* "oa.abs" (at a time) */
	QST_IX_OA_ABS_MIN,        /* "oa.abs_min" (at the T3 minimum) */
	QST_IX_OA_PCT,            /* "oa.pct" */
	QST_IX_PPT_SIDE_PCT,      /* "ppt.side_pct" */
	QST_IX_PPT_REMOTE_COUNT,  /* "ppt.remote_count" */
	QST_IX_RT_TWO_RATE,       /* "rt.two_rate" */
	QST_IX_T_TRUE_TWO_RATE,   /* "t_true.two_rate" */
	QST_IX_COUNT
};

/* Why a value is undefined, or what qualifies it (bitmask). Append only. */
#define QST_IDX_UNDEFINED    0x0001 /* value is NaN; other bits say why */
#define QST_IDX_EMPTY        0x0002 /* no input samples */
#define QST_IDX_NAN_INPUT    0x0004 /* an input was NaN or infinite */
#define QST_IDX_ZERO_BASE    0x0008 /* division by a zero base (ratio, pct) */
#define QST_IDX_NO_PEAK      0x0010 /* tonic TS: no fall after a peak */
#define QST_IDX_OUT_OF_RANGE 0x0020 /* time outside a trace or window empty */
#define QST_IDX_UNSORTED     0x0040 /* timestamps not strictly increasing */
#define QST_IDX_PARTIAL      0x0080 /* defined, but NaN inputs were skipped */
#define QST_IDX_IMPLAUSIBLE  0x0100 /* defined, but physically implausible */
#define QST_IDX_FLAG_BITS    9

struct qst_index_info {
	enum qst_index_variant variant;
	const char *name;     /* stable attribute name, "tsp.diff" */
	const char *formula;  /* "R_last - R_first" */
	const char *sign;     /* sign convention, stored as an attribute */
	const char *unit;     /* "input", "%", "ratio", "count", "s", "degC" */
	const char *source;   /* "qst-domain.md §6.1" */
};

/* NULL for an unknown variant. */
const struct qst_index_info *qst_index_info(int variant);
/* Name of one QST_IDX_* bit ("zero_base"), "unknown" otherwise. */
const char *qst_index_flag_name(unsigned bit);

struct qst_index {
	enum qst_index_variant variant;
	double value;         /* NaN when flags has QST_IDX_UNDEFINED */
	unsigned flags;       /* QST_IDX_* */
};

static inline bool qst_index_defined(const struct qst_index *ix)
{
	return !(ix->flags & QST_IDX_UNDEFINED);
}

/* ----------------------------------------------------------- TSP (§6.1) */

/*
 * Phasic TSP from the ratings of one train in pulse order (R_1..R_n, n >=
 * 1; unrated pulses left out by the caller). variant: QST_IX_TSP_DIFF,
 * _MAX, _FROM_MIN or _RATIO. Any NaN rating makes the index undefined:
 * which pulse was first or last would otherwise be a guess.
 */
struct qst_index qst_tsp(enum qst_index_variant variant, const double *r,
			 size_t n);

/*
 * Tonic heat TS (§6.1, Suzan 2015): VAS_end − VAS_nadir, the nadir taken
 * after the initial peak. The initial peak is the running maximum at the
 * first sample that lies more than min_drop below it (min_drop >= 0, in
 * VAS units, so that a jitter of the rising edge is not a peak). Without
 * such a fall: QST_IDX_NO_PEAK.
 */
struct qst_index qst_ts_tonic(const double *vas, size_t n, double min_drop);

/* ----------------------------------------------------------- CPM (§6.3) */

/* What the test stimulus measures: decides which sign means inhibition. */
enum qst_ts_kind {
	QST_TS_RATING = -1,    /* NRS/VAS: a fall = inhibition (sign_TS = -1) */
	QST_TS_THRESHOLD = +1, /* PPT, HPT: a rise = inhibition (sign_TS = +1) */
};

/* TS_cond − TS_base, in the TS unit. */
struct qst_index qst_cpm_abs(double ts_base, double ts_cond);
/* 100 × (TS_cond − TS_base) / TS_base; QST_IDX_ZERO_BASE if base is 0. */
struct qst_index qst_cpm_pct(double ts_base, double ts_cond);
/* sign_TS × (TS_cond − TS_base): positive = inhibition whatever the TS. */
struct qst_index qst_cpm_inhibition(enum qst_ts_kind kind, double ts_base,
				    double ts_cond);
/* Parallel design: early = during the CS, late = after it; both as
 * inhibition_positive (for ratings, NRS_before − NRS_during/after). */
struct qst_index qst_cpm_early(enum qst_ts_kind kind, double ts_before,
			       double ts_during);
struct qst_index qst_cpm_late(enum qst_ts_kind kind, double ts_before,
			      double ts_after);

/* §6.3, Kennedy: SEM of PPT as TS, 0.21 kg/cm² ≈ 20.6 kPa. */
#define QST_CPM_PPT_SEM_KPA 20.6

/*
 * Within-subject SD of repeated baseline TS measures (sample SD, n − 1),
 * the per-subject estimate of the TS's standard error of measurement.
 * Undefined for n < 2 or a NaN input.
 */
struct qst_index qst_ts_sem(const double *ts, size_t n);

/*
 * Responder rule (§6.3): +1 when inhibition_positive > 2 × sem (a real
 * inhibition), −1 when it is < −2 × sem (facilitation beyond the noise),
 * 0 otherwise. Undefined when sem is not finite or not > 0.
 */
struct qst_index qst_cpm_responder(double inhibition_positive, double sem);

/* ------------------------------------------------------------ OA (§6.4) */

/*
 * Resample a trace sampled at its own strictly increasing times t[0..n-1]
 * onto the grid t0 + k·dt, k = 0..m-1, by linear interpolation between
 * neighbours (no extrapolation: grid points outside [t[0], t[n-1]] are
 * NaN). The raw samples are only read (§6.4: keep them raw). Returns the
 * QST_IDX_* flags: 0, or UNDEFINED with EMPTY/UNSORTED/NAN_INPUT, or
 * OUT_OF_RANGE when some grid points fell outside the trace.
 */
unsigned qst_resample_linear(const double *t, const double *v, size_t n,
			     double t0, double dt, size_t m, double *out);

/* One trace: times (s, any common origin) and values, n samples. */
struct qst_trace {
	const double *t;
	const double *v;
	size_t n;
};

/*
 * OA_abs(t) = VAS_control(t) − VAS_offset(t) at one time-matched point,
 * both traces linearly interpolated at t (positive = offset analgesia).
 */
struct qst_index qst_oa_abs_at(const struct qst_trace *control,
			       const struct qst_trace *offset, double t);

/*
 * OA_abs at the minimum of the offset trial during T3 = [t3_start,
 * t3_end]: both traces are resampled onto a common grid of step dt over
 * T3, t* is the grid time of the offset trace's minimum, and the value is
 * control(t*) − offset(t*). *t_min (may be NULL) gets t*.
 */
struct qst_index qst_oa_abs_min(const struct qst_trace *control,
				const struct qst_trace *offset,
				double t3_start, double t3_end, double dt,
				double *t_min);

/* OA_pct = 100 × (VAS_T2,max − VAS_T3,min) / VAS_T2,max (§6.4 [U]). */
struct qst_index qst_oa_pct(double vas_t2_max, double vas_t3_min);
/* The same from the raw samples of the offset trace within T2 and T3. */
struct qst_index qst_oa_pct_trace(const struct qst_trace *offset,
				  double t2_start, double t2_end,
				  double t3_start, double t3_end);

/* -------------------------------------------------- remote PPT (§6.6) */

/* 100 × (PPT_affected − PPT_control) / PPT_control. */
struct qst_index qst_ppt_side_pct(double ppt_affected, double ppt_control);
/* Count of sites with z > +1.96 (DFNS sign: PPT z > 0 = gain). NaN z are
 * skipped and flag QST_IDX_PARTIAL; all NaN or n = 0 is undefined. */
struct qst_index qst_ppt_remote_count(const double *z, size_t n);

/* ----------------------------------------- RT correction (§7.1) */

/*
 * From thresholds t1, t2 measured at ramp rates r1 != r2 (°C/s), assuming
 * T_obs = T_true + r × RT: RT = (T2 − T1)/(r2 − r1), T_true = T1 − r1 × RT.
 * A negative RT is kept but flagged QST_IDX_IMPLAUSIBLE.
 *
 * NEVER apply T_true before z-scoring against DFNS references: they were
 * collected WITH the reaction-time artefact at 1 °C/s (§7.1).
 */
void qst_rt_two_rate(double t1, double r1, double t2, double r2,
		     struct qst_index *rt, struct qst_index *t_true);

#endif
