/*
 * Unit tests for analysis/indices.c: the worked examples of qst-domain.md
 * §6.1, §6.3, §6.4 and §7.1, and the undefined cases (empty, NaN, zero
 * base, unsorted traces).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qst_indices.h"

#define TOL 1e-9
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void assert_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.12g, want %.12g (tolerance %g)", got, want, tol);
}

static void assert_value(struct qst_index ix, enum qst_index_variant v,
			 double want)
{
	assert_int_equal(ix.variant, v);
	assert_true(qst_index_defined(&ix));
	assert_int_equal(ix.flags & QST_IDX_UNDEFINED, 0);
	assert_near(ix.value, want, TOL);
}

static void assert_undefined(struct qst_index ix, unsigned why)
{
	assert_false(qst_index_defined(&ix));
	assert_true(isnan(ix.value));
	assert_true(ix.flags & why);
}

/* ------------------------------------------------------------- table */

static void test_names_unique_and_complete(void **state)
{
	(void)state;
	for (int i = 0; i < QST_IX_COUNT; i++) {
		const struct qst_index_info *a = qst_index_info(i);
		assert_non_null(a);
		assert_int_equal(a->variant, i);
		assert_true(a->name[0] && a->formula[0] && a->sign[0] &&
			    a->unit[0] && a->source[0]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a->name, qst_index_info(j)->name);
	}
	assert_null(qst_index_info(QST_IX_COUNT));
	assert_null(qst_index_info(-1));
	assert_string_equal(qst_index_info(QST_IX_TSP_DIFF)->name, "tsp.diff");
	assert_string_equal(qst_index_info(QST_IX_TSP_DIFF)->formula,
			    "R_last - R_first");
	assert_string_equal(qst_index_info(QST_IX_CPM_INHIBITION)->sign,
			    "positive = inhibition");
	assert_string_equal(qst_index_flag_name(QST_IDX_ZERO_BASE), "zero_base");
	assert_string_equal(qst_index_flag_name(QST_IDX_IMPLAUSIBLE),
			    "implausible");
	assert_string_equal(qst_index_flag_name(3), "unknown");
}

/* --------------------------------------------------------------- TSP */

/* §6.1 worked example: R_1 = 20, R_10 = 55, min = 18, max = 60. */
static const double train[10] = { 20, 18, 25, 30, 41, 60, 52, 49, 50, 55 };

static void test_tsp_worked_example(void **state)
{
	(void)state;
	assert_value(qst_tsp(QST_IX_TSP_DIFF, train, 10), QST_IX_TSP_DIFF, 35);
	assert_value(qst_tsp(QST_IX_TSP_MAX, train, 10), QST_IX_TSP_MAX, 40);
	assert_value(qst_tsp(QST_IX_TSP_FROM_MIN, train, 10),
		     QST_IX_TSP_FROM_MIN, 37);
	assert_value(qst_tsp(QST_IX_TSP_RATIO, train, 10), QST_IX_TSP_RATIO,
		     2.75);
}

static void test_tsp_undefined(void **state)
{
	(void)state;
	const double zero_first[3] = { 0, 10, 20 };
	struct qst_index ix = qst_tsp(QST_IX_TSP_RATIO, zero_first, 3);
	assert_undefined(ix, QST_IDX_ZERO_BASE);
	/* The other variants stay defined with a zero first rating (§7.4:
	 * 0 is a valid rating, never missing). */
	assert_value(qst_tsp(QST_IX_TSP_DIFF, zero_first, 3), QST_IX_TSP_DIFF,
		     20);
	assert_undefined(qst_tsp(QST_IX_TSP_DIFF, NULL, 0), QST_IDX_EMPTY);
	assert_undefined(qst_tsp(QST_IX_TSP_DIFF, train, 0), QST_IDX_EMPTY);
	const double with_nan[3] = { 10, NAN, 20 };
	assert_undefined(qst_tsp(QST_IX_TSP_MAX, with_nan, 3),
			 QST_IDX_NAN_INPUT);
	/* One rating: every difference is 0, the ratio 1. */
	const double one = 7;
	assert_value(qst_tsp(QST_IX_TSP_DIFF, &one, 1), QST_IX_TSP_DIFF, 0);
	assert_value(qst_tsp(QST_IX_TSP_RATIO, &one, 1), QST_IX_TSP_RATIO, 1);
}

/* §6.1 tonic TS: early peak, fall to a nadir, then a progressive rise. */
static void test_ts_tonic(void **state)
{
	(void)state;
	const double vas[] = { 0, 5, 30, 45, 44, 30, 20, 12, 15, 25, 40, 52 };
	/* Nadir after the peak is 12, not the 0 before it: 52 − 12. */
	assert_value(qst_ts_tonic(vas, N_OF(vas), 0.0), QST_IX_TS_TONIC, 40);
	/* With a 2-point tolerance the 45 → 44 wobble is not the peak, but the
	 * peak is still 45 and the nadir 12. */
	assert_value(qst_ts_tonic(vas, N_OF(vas), 2.0), QST_IX_TS_TONIC, 40);
	/* A rising edge with a small jitter: without tolerance the jitter is
	 * taken as the peak, and the nadir (3) precedes the true one. */
	const double jitter[] = { 0, 4, 3, 20, 40, 25, 10, 18, 30 };
	assert_value(qst_ts_tonic(jitter, N_OF(jitter), 0.0), QST_IX_TS_TONIC,
		     27);
	assert_value(qst_ts_tonic(jitter, N_OF(jitter), 5.0), QST_IX_TS_TONIC,
		     20);
	const double rising[] = { 0, 10, 20, 30 };
	assert_undefined(qst_ts_tonic(rising, N_OF(rising), 0.0),
			 QST_IDX_NO_PEAK);
	assert_undefined(qst_ts_tonic(NULL, 0, 0.0), QST_IDX_EMPTY);
	const double bad[] = { 0, NAN, 3 };
	assert_undefined(qst_ts_tonic(bad, 3, 0.0), QST_IDX_NAN_INPUT);
	assert_undefined(qst_ts_tonic(vas, N_OF(vas), -1.0), QST_IDX_NAN_INPUT);
}

/* --------------------------------------------------------------- CPM */

static void test_cpm_worked_examples(void **state)
{
	(void)state;
	/* §6.3: NRS before 60, during 42 → −18, −30 %, inhibition +18. */
	assert_value(qst_cpm_abs(60, 42), QST_IX_CPM_ABS, -18);
	assert_value(qst_cpm_pct(60, 42), QST_IX_CPM_PCT, -30);
	assert_value(qst_cpm_inhibition(QST_TS_RATING, 60, 42),
		     QST_IX_CPM_INHIBITION, 18);
	/* §6.3: PPT before 300 kPa, after 360 → +60 kPa, +20 %, +60. */
	assert_value(qst_cpm_abs(300, 360), QST_IX_CPM_ABS, 60);
	assert_value(qst_cpm_pct(300, 360), QST_IX_CPM_PCT, 20);
	assert_value(qst_cpm_inhibition(QST_TS_THRESHOLD, 300, 360),
		     QST_IX_CPM_INHIBITION, 60);
}

static void test_cpm_early_late(void **state)
{
	(void)state;
	/* §6.3 heat–cold: early = NRS_before − NRS_during, late = before −
	 * after (the healthy means were 16.7 and 1.7). */
	assert_value(qst_cpm_early(QST_TS_RATING, 60, 43.3), QST_IX_CPM_EARLY,
		     16.7);
	assert_value(qst_cpm_late(QST_TS_RATING, 60, 58.3), QST_IX_CPM_LATE,
		     1.7);
	/* A threshold TS: a rise during the CS is inhibition. */
	assert_value(qst_cpm_early(QST_TS_THRESHOLD, 300, 330),
		     QST_IX_CPM_EARLY, 30);
	assert_undefined(qst_cpm_late(QST_TS_RATING, NAN, 1), QST_IDX_NAN_INPUT);
	assert_undefined(qst_cpm_inhibition((enum qst_ts_kind)0, 1, 2),
			 QST_IDX_NAN_INPUT);
}

static void test_cpm_undefined(void **state)
{
	(void)state;
	assert_undefined(qst_cpm_pct(0, 10), QST_IDX_ZERO_BASE);
	/* A zero base leaves the absolute change defined. */
	assert_value(qst_cpm_abs(0, 10), QST_IX_CPM_ABS, 10);
	assert_undefined(qst_cpm_abs(NAN, 10), QST_IDX_NAN_INPUT);
	assert_undefined(qst_cpm_pct(10, INFINITY), QST_IDX_NAN_INPUT);
}

static void test_cpm_responder(void **state)
{
	(void)state;
	/* §6.3: PPT SEM 20.6 kPa → a real inhibition needs > 41.2 kPa. */
	double sem = QST_CPM_PPT_SEM_KPA;
	assert_value(qst_cpm_responder(60, sem), QST_IX_CPM_RESPONDER, 1);
	assert_value(qst_cpm_responder(41.2, sem), QST_IX_CPM_RESPONDER, 0);
	assert_value(qst_cpm_responder(41.3, sem), QST_IX_CPM_RESPONDER, 1);
	assert_value(qst_cpm_responder(-50, sem), QST_IX_CPM_RESPONDER, -1);
	assert_value(qst_cpm_responder(-10, sem), QST_IX_CPM_RESPONDER, 0);
	assert_undefined(qst_cpm_responder(60, 0), QST_IDX_ZERO_BASE);
	assert_undefined(qst_cpm_responder(NAN, sem), QST_IDX_NAN_INPUT);

	/* SEM from repeated TS: 290, 300, 310 → SD 10. */
	const double reps[] = { 290, 300, 310 };
	struct qst_index s = qst_ts_sem(reps, 3);
	assert_true(qst_index_defined(&s));
	assert_near(s.value, 10.0, TOL);
	assert_value(qst_cpm_responder(20.5, s.value), QST_IX_CPM_RESPONDER, 1);
	assert_undefined(qst_ts_sem(reps, 1), QST_IDX_EMPTY);
	const double bad[] = { 1, NAN };
	assert_undefined(qst_ts_sem(bad, 2), QST_IDX_NAN_INPUT);
}

/* ---------------------------------------------------------------- OA */

/*
 * §6.4 traces on their own clocks (eVAS samples arrive asynchronously):
 * control constant at 5.0 (0–10 VAS) sampled every 0.3 s from 0.1 s; the
 * offset trial T1 0–5 s at 5.0, T2 5–10 s rising to 6.0, and after the
 * decrease at 10 s a dip to 4.54 at 11 s, back to 5.0 at 15 s, sampled
 * every 0.5 s from 0.25 s. Reference effect: −0.46 VAS just after the
 * decrease (§6.4, S20).
 */
#define CTRL_N 100
#define OFFS_N 60

static double ctrl_t[CTRL_N], ctrl_v[CTRL_N], offs_t[OFFS_N], offs_v[OFFS_N];

static double offset_truth(double t)
{
	if (t <= 5.0)
		return 5.0;
	if (t <= 10.0)
		return 5.0 + (t - 5.0) / 5.0;   /* 5 → 6 */
	if (t <= 11.0)
		return 6.0 - 1.46 * (t - 10.0); /* 6 → 4.54 */
	if (t <= 15.0)
		return 4.54 + 0.115 * (t - 11.0); /* 4.54 → 5.0 */
	return 5.0;
}

static void make_traces(void)
{
	for (int i = 0; i < CTRL_N; i++) {
		ctrl_t[i] = 0.1 + 0.3 * i;
		ctrl_v[i] = 5.0;
	}
	for (int i = 0; i < OFFS_N; i++) {
		offs_t[i] = 0.25 + 0.5 * i;
		offs_v[i] = offset_truth(offs_t[i]);
	}
}

static void test_oa_time_matched(void **state)
{
	(void)state;
	make_traces();
	double keep_t = offs_t[21], keep_v = offs_v[21];
	struct qst_trace c = { ctrl_t, ctrl_v, CTRL_N };
	struct qst_trace o = { offs_t, offs_v, OFFS_N };
	/* 11.0 s lies between offset samples 10.75 and 11.25: the linear
	 * interpolation of the piecewise-linear truth is not 4.54 there. */
	double want = 5.0 - 0.5 * (offset_truth(10.75) + offset_truth(11.25));
	assert_value(qst_oa_abs_at(&c, &o, 11.0), QST_IX_OA_ABS, want);
	/* At an exact sample time the raw value is used. */
	assert_value(qst_oa_abs_at(&c, &o, 11.25), QST_IX_OA_ABS,
		     5.0 - offset_truth(11.25));
	/* Control runs to 29.8 s: later is out of range, not extrapolated. */
	assert_undefined(qst_oa_abs_at(&c, &o, 29.9), QST_IDX_OUT_OF_RANGE);
	/* The raw samples stay raw. */
	assert_true(offs_t[21] == keep_t && offs_v[21] == keep_v);
}

static void test_oa_minimum_in_t3(void **state)
{
	(void)state;
	make_traces();
	struct qst_trace c = { ctrl_t, ctrl_v, CTRL_N };
	struct qst_trace o = { offs_t, offs_v, OFFS_N };
	/* On a 0.25 s grid over T3 = 10–30 s the minimum of the offset trace
	 * is at its sample nearest to 11 s (10.75 or 11.25), ≈ −0.46 + the
	 * sampling error of the eVAS; with a grid containing 11.0 exactly
	 * the interpolated minimum lies between the two. */
	double tmin = NAN;
	struct qst_index ix = qst_oa_abs_min(&c, &o, 10.0, 30.0, 0.25, &tmin);
	assert_int_equal(ix.variant, QST_IX_OA_ABS_MIN);
	assert_true(qst_index_defined(&ix));
	double o1 = offset_truth(10.75), o2 = offset_truth(11.25);
	double want = 5.0 - fmin(o1, o2);
	assert_near(ix.value, want, TOL);
	assert_near(tmin, o1 < o2 ? 10.75 : 11.25, TOL);
	assert_true(fabs(ix.value - 0.46) < 0.2);

	/* Sampled densely, the minimum is 4.54 at 11 s: exactly 0.46. */
	double dt[301], dv[301];
	for (int i = 0; i <= 300; i++) {
		dt[i] = 0.1 * i;
		dv[i] = offset_truth(dt[i]);
	}
	struct qst_trace dense = { dt, dv, 301 };
	ix = qst_oa_abs_min(&c, &dense, 10.0, 30.0, 0.05, &tmin);
	assert_value(ix, QST_IX_OA_ABS_MIN, 0.46);
	assert_near(tmin, 11.0, 1e-9);

	assert_undefined(qst_oa_abs_min(&c, &o, 40.0, 50.0, 0.25, NULL),
			 QST_IDX_OUT_OF_RANGE);
	assert_undefined(qst_oa_abs_min(&c, &o, 10.0, 5.0, 0.25, NULL),
			 QST_IDX_OUT_OF_RANGE);
}

static void test_oa_pct(void **state)
{
	(void)state;
	make_traces();
	/* T2 max = 6.0 at 10 s is between samples: the raw maximum in T2 is
	 * the sample at 9.75 s (5.95); T3 min the sample nearest 11 s. */
	struct qst_trace o = { offs_t, offs_v, OFFS_N };
	double t2max = offset_truth(9.75);
	double t3min = fmin(offset_truth(10.75), offset_truth(11.25));
	assert_value(qst_oa_pct_trace(&o, 5.0, 10.0, 10.0, 30.0), QST_IX_OA_PCT,
		     100.0 * (t2max - t3min) / t2max);
	assert_value(qst_oa_pct(6.0, 4.5), QST_IX_OA_PCT, 25.0);
	assert_undefined(qst_oa_pct(0.0, 0.0), QST_IDX_ZERO_BASE);
	assert_undefined(qst_oa_pct_trace(&o, 40, 41, 10, 30),
			 QST_IDX_OUT_OF_RANGE);
}

static void test_resample(void **state)
{
	(void)state;
	const double t[] = { 0.0, 1.0, 3.0 };
	const double v[] = { 0.0, 10.0, 30.0 };
	double out[5];
	/* Grid −0.5, 0.5, 1.5, 2.5, 3.5: first and last are outside. */
	unsigned f = qst_resample_linear(t, v, 3, -0.5, 1.0, 5, out);
	assert_int_equal(f, QST_IDX_OUT_OF_RANGE);
	assert_true(isnan(out[0]) && isnan(out[4]));
	assert_near(out[1], 5.0, TOL);
	assert_near(out[2], 15.0, TOL);
	assert_near(out[3], 25.0, TOL);
	assert_int_equal(qst_resample_linear(t, v, 3, 0.0, 1.0, 4, out), 0);
	assert_near(out[3], 30.0, TOL);

	const double unsorted[] = { 0.0, 2.0, 1.0 };
	assert_true(qst_resample_linear(unsorted, v, 3, 0, 1, 2, out) &
		    QST_IDX_UNSORTED);
	const double dup[] = { 0.0, 1.0, 1.0 };
	assert_true(qst_resample_linear(dup, v, 3, 0, 1, 2, out) &
		    QST_IDX_UNSORTED);
	const double nanv[] = { 0.0, NAN, 1.0 };
	assert_true(qst_resample_linear(t, nanv, 3, 0, 1, 2, out) &
		    QST_IDX_NAN_INPUT);
	assert_true(qst_resample_linear(t, v, 0, 0, 1, 2, out) & QST_IDX_EMPTY);
	assert_true(qst_resample_linear(t, v, 3, 0, 0.0, 2, out) &
		    QST_IDX_UNDEFINED);

	struct qst_trace a = { t, v, 3 }, bad = { unsorted, v, 3 };
	assert_undefined(qst_oa_abs_at(&a, &bad, 0.5), QST_IDX_UNSORTED);
	assert_undefined(qst_oa_abs_at(&a, NULL, 0.5), QST_IDX_EMPTY);
}

/* -------------------------------------------------------- remote PPT */

static void test_ppt_remote(void **state)
{
	(void)state;
	/* §6.6: 260 vs 400 kPa on the control side → −35 %. */
	assert_value(qst_ppt_side_pct(260, 400), QST_IX_PPT_SIDE_PCT, -35);
	assert_undefined(qst_ppt_side_pct(260, 0), QST_IDX_ZERO_BASE);
	assert_undefined(qst_ppt_side_pct(NAN, 400), QST_IDX_NAN_INPUT);

	const double z[] = { 2.5, 1.96, -3.0, 1.97, 0.0 };
	/* 1.96 itself is not above the limit; −3 is loss, not counted. */
	assert_value(qst_ppt_remote_count(z, N_OF(z)), QST_IX_PPT_REMOTE_COUNT,
		     2);
	const double some_nan[] = { 2.5, NAN, 3.0 };
	struct qst_index ix = qst_ppt_remote_count(some_nan, 3);
	assert_true(qst_index_defined(&ix));
	assert_near(ix.value, 2, TOL);
	assert_true(ix.flags & QST_IDX_PARTIAL);
	const double all_nan[] = { NAN, NAN };
	assert_undefined(qst_ppt_remote_count(all_nan, 2), QST_IDX_NAN_INPUT);
	assert_undefined(qst_ppt_remote_count(z, 0), QST_IDX_EMPTY);
}

/* ------------------------------------------------------ RT two-rate */

static void test_rt_two_rate(void **state)
{
	(void)state;
	/* §7.1: WDT 34.6 °C at 1 °C/s, 35.4 °C at 3 °C/s → 0.4 s, 34.2 °C. */
	struct qst_index rt, tt;
	qst_rt_two_rate(34.6, 1.0, 35.4, 3.0, &rt, &tt);
	assert_value(rt, QST_IX_RT_TWO_RATE, 0.4);
	assert_value(tt, QST_IX_T_TRUE_TWO_RATE, 34.2);
	assert_int_equal(rt.flags, 0);
	/* Order of the two measurements does not matter. */
	qst_rt_two_rate(35.4, 3.0, 34.6, 1.0, &rt, &tt);
	assert_value(rt, QST_IX_RT_TWO_RATE, 0.4);
	assert_value(tt, QST_IX_T_TRUE_TWO_RATE, 34.2);
	/* Cooling with signed rates: CDT 30.6 at −1, 29.8 at −3 °C/s. */
	qst_rt_two_rate(30.6, -1.0, 29.8, -3.0, &rt, &tt);
	assert_value(rt, QST_IX_RT_TWO_RATE, 0.4);
	assert_value(tt, QST_IX_T_TRUE_TWO_RATE, 31.0);
	/* A faster ramp giving a lower warm threshold: RT < 0, flagged. */
	qst_rt_two_rate(35.4, 1.0, 34.6, 3.0, &rt, &tt);
	assert_true(qst_index_defined(&rt));
	assert_true(rt.flags & QST_IDX_IMPLAUSIBLE);
	assert_true(tt.flags & QST_IDX_IMPLAUSIBLE);
	qst_rt_two_rate(34.6, 1.0, 35.4, 1.0, &rt, &tt);
	assert_undefined(rt, QST_IDX_ZERO_BASE);
	assert_undefined(tt, QST_IDX_ZERO_BASE);
	qst_rt_two_rate(NAN, 1.0, 35.4, 3.0, &rt, NULL);
	assert_undefined(rt, QST_IDX_NAN_INPUT);
	assert_non_null(strstr(qst_index_info(QST_IX_T_TRUE_TWO_RATE)->sign,
			       "NEVER"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_unique_and_complete),
		cmocka_unit_test(test_tsp_worked_example),
		cmocka_unit_test(test_tsp_undefined),
		cmocka_unit_test(test_ts_tonic),
		cmocka_unit_test(test_cpm_worked_examples),
		cmocka_unit_test(test_cpm_early_late),
		cmocka_unit_test(test_cpm_undefined),
		cmocka_unit_test(test_cpm_responder),
		cmocka_unit_test(test_oa_time_matched),
		cmocka_unit_test(test_oa_minimum_in_t3),
		cmocka_unit_test(test_oa_pct),
		cmocka_unit_test(test_resample),
		cmocka_unit_test(test_ppt_remote),
		cmocka_unit_test(test_rt_two_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
