/*
 * The virtual participant's heat pain perception (issue 6): synthetic
 * plate histories for the paradigms of qst-domain.md §6 (TSP, CPM, OA)
 * and the continuous slider, checked against the profile's configured
 * truths as docs/simulation.md states them.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qst_participant.h"

#define MS QST_NS_PER_MS
/* The station pumps the participant at least this often during stimuli. */
#define STEP (10 * MS)
#define ANSWER_RATING 2 /* enum qst_answer_kind */
#define MAX_PRESSES 64

struct presses {
	int n;
	int64_t t[MAX_PRESSES];
};

static int record_press(void *user, int64_t t_ns, int key, bool pressed)
{
	struct presses *pr = user;
	(void)key;
	if (pressed && pr && pr->n < MAX_PRESSES)
		pr->t[pr->n++] = t_ns;
	return 0;
}

static struct qst_participant *make(const struct qst_participant_profile *prof,
				    uint64_t seed, struct presses *pr)
{
	struct qst_participant *p = NULL;
	assert_int_equal(qst_participant_new(prof, seed, record_press, pr, &p), QST_OK);
	return p;
}

static struct qst_participant_profile builtin(const char *name)
{
	struct qst_participant_profile prof;
	assert_int_equal(qst_participant_profile_builtin(name, &prof), QST_OK);
	return prof;
}

/* A plate history: straight segments between knots (t in s, degC). */
struct knot {
	double t_s, c;
};

static double plate_at(const struct knot *k, int n, double t_s)
{
	if (t_s <= k[0].t_s)
		return k[0].c;
	for (int i = 1; i < n; i++)
		if (t_s <= k[i].t_s)
			return k[i - 1].c + (k[i].c - k[i - 1].c) *
				(t_s - k[i - 1].t_s) / (k[i].t_s - k[i - 1].t_s);
	return k[n - 1].c;
}

/* A train of n trapezoid pulses from base to peak, onsets isi apart from
 * t0; returns the number of knots written. */
static int train(struct knot *k, double t0, double base, double peak,
		 double isi, double ramp, double hold, int n)
{
	int m = 0;
	k[m++] = (struct knot){ 0, base };
	for (int i = 0; i < n; i++) {
		double on = t0 + i * isi;
		k[m++] = (struct knot){ on, base };
		k[m++] = (struct knot){ on + ramp, peak };
		k[m++] = (struct knot){ on + ramp + hold, peak };
		k[m++] = (struct knot){ on + 2 * ramp + hold, base };
	}
	return m;
}

/* ----------------------------------------------------------- TSP §6.1 */

#define TSP_N 10
#define TSP_BASE_C 35.0
#define TSP_RAMP_S 0.5
#define TSP_HOLD_S 0.5
#define TSP_T0_S 2.0

/* Feed a 10-pulse train; r[k] = the peak pain of pulse k (model truth),
 * and the participant's NRS answers after pulse 1 and after the train. */
static void run_train(const struct qst_participant_profile *prof, double isi,
		      double r[TSP_N], double *ask_first, double *ask_last)
{
	struct qst_participant *p = make(prof, 7, NULL);
	struct knot k[4 * TSP_N + 1];
	double peak = prof->heat_p50_c;
	int nk = train(k, TSP_T0_S, TSP_BASE_C, peak, isi, TSP_RAMP_S, TSP_HOLD_S, TSP_N);
	double end_s = TSP_T0_S + TSP_N * isi + 1.0;
	for (int i = 0; i < TSP_N; i++)
		r[i] = 0;
	int64_t first_asked = llround((TSP_T0_S + isi - 0.2) * 1000.0) * MS;
	*ask_first = NAN;
	for (int64_t t = 0; t <= qst_s_to_ns(end_s); t += STEP) {
		double ts = qst_ns_to_s(t);
		qst_participant_feel(p, t, plate_at(k, nk, ts));
		int pulse = (int)floor((ts - TSP_T0_S) / isi);
		if (pulse >= 0 && pulse < TSP_N &&
		    qst_participant_pain(p) > r[pulse])
			r[pulse] = qst_participant_pain(p);
		if (t == first_asked)
			*ask_first = qst_participant_answer(p, 0, 0, NAN, ANSWER_RATING);
	}
	*ask_last = qst_participant_answer(p, 0, 0, NAN, ANSWER_RATING);
	qst_participant_free(p);
}

static void check_tsp(const char *name, double min_truth, double max_truth)
{
	struct qst_participant_profile prof = builtin(name);
	double r[TSP_N], first, last;
	run_train(&prof, 2.0, r, &first, &last);
	double truth = qst_participant_profile_tsp_truth(&prof, TSP_BASE_C,
							 prof.heat_p50_c, 2.0, TSP_RAMP_S,
							 TSP_HOLD_S, TSP_N);
	print_message("%s: R1 %.2f R10 %.2f diff %.2f truth %.2f; asked %.0f, %.0f\n",
		      name, r[0], r[TSP_N - 1], r[TSP_N - 1] - r[0], truth, first, last);
	/* The first pulse is rated as a held plate at its peak: 50. */
	assert_true(fabs(r[0] - 50.0) < 0.5);
	assert_true(fabs(r[TSP_N - 1] - r[0] - truth) < 0.03 * truth + 0.3);
	/* The profile's character: healthy sums a little, sensitized a lot. */
	assert_true(truth > min_truth && truth < max_truth);
	/* Ratings rise pulse by pulse. */
	for (int i = 1; i < TSP_N; i++)
		assert_true(r[i] > r[i - 1]);
	/* The NRS answers carry the same truth, within the rating scatter
	 * (rating_sd 1, rounded). */
	assert_true(fabs(first - r[0]) <= 4.0);
	assert_true(fabs(last - r[TSP_N - 1]) <= 4.0);
	/* At 0.1 Hz the summation has faded between pulses (§6.1: >= 0.33 Hz). */
	double slow[TSP_N], f2, l2;
	run_train(&prof, 10.0, slow, &f2, &l2);
	assert_true(slow[TSP_N - 1] - slow[0] < 0.1 * (r[TSP_N - 1] - r[0]));
}

static void tsp_healthy(void **state)
{
	(void)state;
	check_tsp("healthy", 3.0, 12.0);
}

static void tsp_sensitized(void **state)
{
	(void)state;
	check_tsp("sensitized", 25.0, 50.0);
}

/* Non-painful trains do not sum (the drive is nociceptive). */
static void tsp_needs_pain(void **state)
{
	(void)state;
	struct qst_participant_profile prof = builtin("sensitized");
	double truth = qst_participant_profile_tsp_truth(&prof, 32.0, prof.hpt_c - 0.5,
							 2.0, 0.5, 0.5, TSP_N);
	assert_true(truth == 0.0);
}

/* ----------------------------------------------------------- CPM §6.3 */

/* Test stimulus: 10 s at the 50 point, from 32 degC, starting at t0. */
static double test_stimulus(struct qst_participant *p, double p50, double t0,
			    double *rated)
{
	struct knot k[] = { { 0, 32 }, { t0, 32 }, { t0 + 1, p50 },
			    { t0 + 11, p50 }, { t0 + 12, 32 } };
	double peak = 0;
	for (int64_t t = qst_s_to_ns(t0); t <= qst_s_to_ns(t0 + 14); t += STEP) {
		qst_participant_feel(p, t, plate_at(k, 5, qst_ns_to_s(t)));
		if (qst_participant_pain(p) > peak)
			peak = qst_participant_pain(p);
	}
	*rated = qst_participant_answer(p, 0, 0, NAN, ANSWER_RATING);
	return peak;
}

static void check_cpm(const char *name)
{
	struct qst_participant_profile prof = builtin(name);
	struct qst_participant *p = make(&prof, 3, NULL);
	double a_before, a_during, a_after;
	/* 30 s before, during a 60 s cold bath, and 30 s after (§6.3). */
	double before = test_stimulus(p, prof.heat_p50_c, 0, &a_before);
	qst_participant_condition(p, qst_s_to_ns(30), 1.0, true);
	double during = test_stimulus(p, prof.heat_p50_c, 60, &a_during);
	qst_participant_condition(p, qst_s_to_ns(90), 0.0, false);
	double after = test_stimulus(p, prof.heat_p50_c, 120, &a_after);
	print_message("%s: before %.2f during %.2f after %.2f; asked %.0f %.0f %.0f\n",
		      name, before, during, after, a_before, a_during, a_after);
	assert_true(fabs(before - 50.0) < 0.5);
	/* Early CPM: the test stimulus hurts less by the efficiency. */
	assert_true(fabs(during - before * (1.0 - prof.cpm_efficiency)) < 0.5);
	/* Late CPM: faded by exp(-(t - end) / tau); the pain is highest at
	 * the end of the hold (131 s), when most has faded. */
	double left = prof.cpm_efficiency * exp(-(131.0 - 90.0) / prof.cpm_tau_s);
	assert_true(fabs(after - before * (1.0 - left)) < 0.5);
	assert_true(fabs(a_before - before) <= 4 && fabs(a_during - during) <= 4 &&
		    fabs(a_after - after) <= 4);
	qst_participant_free(p);
}

static void cpm_healthy_inhibits(void **state)
{
	(void)state;
	struct qst_participant_profile prof = builtin("healthy");
	assert_true(prof.cpm_efficiency > 0.2);
	check_cpm("healthy");
}

static void cpm_sensitized_absent(void **state)
{
	(void)state;
	struct qst_participant_profile prof = builtin("sensitized");
	assert_true(fabs(prof.cpm_efficiency) < 0.05);
	check_cpm("sensitized");
}

/* A half-strength bath, and a facilitating participant (set by hand). */
static void cpm_scales_with_intensity_and_sign(void **state)
{
	(void)state;
	struct qst_participant_profile prof = builtin("healthy");
	char err[128];
	assert_int_equal(qst_participant_profile_parse(&prof, "cpm_efficiency=-0.2",
						       err, sizeof(err)), QST_OK);
	struct qst_participant *p = make(&prof, 3, NULL);
	double a;
	qst_participant_condition(p, 0, 0.5, true);
	double during = test_stimulus(p, prof.heat_p50_c, 10, &a);
	assert_true(fabs(during - 50.0 * (1.0 + 0.2 * 0.5)) < 0.5);
	qst_participant_free(p);
}

/* ------------------------------------------------------------ OA §6.4 */

#define OA_T0_S 2.0

/* Pain and slider traces, 10 ms apart, of an OA trial (offset: T 5 s,
 * T + 1 5 s, T 20 s; control: T 30 s), the steps taking 0.2 s. */
static int oa_trial(const struct qst_participant_profile *prof, bool offset,
		    double *pain, double *slider, int cap)
{
	double T = prof->heat_p50_c, t0 = OA_T0_S, up = offset ? 1.0 : 0.0;
	struct knot k[] = { { 0, 32 }, { t0, 32 }, { t0 + 1, T }, { t0 + 6, T },
			    { t0 + 6.2, T + up }, { t0 + 11, T + up },
			    { t0 + 11.2, T }, { t0 + 31, T }, { t0 + 32, 32 } };
	struct qst_participant *p = make(prof, 11, NULL);
	int n = 0;
	for (int64_t t = 0; n < cap; t += STEP, n++) {
		qst_participant_feel(p, t, plate_at(k, 9, qst_ns_to_s(t)));
		pain[n] = qst_participant_pain(p);
		slider[n] = qst_participant_rating(p, t);
	}
	qst_participant_free(p);
	return n;
}

#define OA_SAMPLES 3600
#define AT(s) ((int)llround((s) / 0.01))

static void check_oa(const char *name)
{
	struct qst_participant_profile prof = builtin(name);
	static double po[OA_SAMPLES], so[OA_SAMPLES], pc[OA_SAMPLES], sc[OA_SAMPLES];
	oa_trial(&prof, true, po, so, OA_SAMPLES);
	oa_trial(&prof, false, pc, sc, OA_SAMPLES);
	/* The deepest dip below control after the fall (T3 starts at 13.2 s). */
	double dip = 0, sdip = 0;
	int at = 0;
	for (int i = AT(OA_T0_S + 11.2); i < AT(OA_T0_S + 31); i++) {
		if (pc[i] - po[i] > dip) {
			dip = pc[i] - po[i];
			at = i;
		}
		if (sc[i] - so[i] > sdip)
			sdip = sc[i] - so[i];
	}
	double truth = prof.oa_depth * pc[at];
	double at_5s = pc[AT(OA_T0_S + 16.2)] - po[AT(OA_T0_S + 16.2)];
	print_message("%s: control %.1f, dip %.2f at %.2f s (truth %.2f), "
		      "slider dip %.0f, 5 s later %.2f\n", name, pc[at], dip,
		      at * 0.01, truth, sdip, at_5s);
	/* The dip is there right after the fall, of the configured depth... */
	assert_true(at <= AT(OA_T0_S + 11.3));
	assert_true(fabs(dip - truth) < 0.02 * truth + 0.2);
	/* ...and fades: by 5 s it is down to exp(-5 / tau) of it. */
	assert_true(fabs(at_5s - truth * exp(-5.0 / prof.oa_tau_s)) < 0.05 * truth + 0.2);
	/* The slider shows it too, smoothed by its lag (and its noise). */
	assert_true(sdip > 0.5 * truth && sdip < truth + 6.0);
	/* During T2 the offset trial hurts more than control: the step up. */
	int t2 = AT(OA_T0_S + 10.5);
	assert_true(po[t2] > pc[t2] + 3.0);
}

static void oa_healthy(void **state)
{
	(void)state;
	check_oa("healthy");
}

static void oa_sensitized_reduced(void **state)
{
	(void)state;
	struct qst_participant_profile h = builtin("healthy"), s = builtin("sensitized");
	assert_true(s.oa_depth < 0.5 * h.oa_depth);
	check_oa("sensitized");
}

/* ------------------------------------------------- continuous slider */

/* A step to the 50 point: without noise the slider reaches 63% at tau. */
static void slider_lags_by_tau(void **state)
{
	(void)state;
	struct qst_participant_profile prof = builtin("healthy");
	char err[128];
	assert_int_equal(qst_participant_profile_parse(&prof, "rating_sd=0", err,
						       sizeof(err)), QST_OK);
	struct qst_participant *p = make(&prof, 5, NULL);
	double crossed = -1;
	for (int64_t t = 0; t <= qst_s_to_ns(6); t += MS) {
		qst_participant_feel(p, t, t < qst_s_to_ns(1) ? 32.0 : prof.heat_p50_c);
		double r = qst_participant_rating(p, t);
		if (t < qst_s_to_ns(1))
			assert_true(r == 0.0); /* untouched before anything hurts */
		if (crossed < 0 && r >= floor(50.0 * (1.0 - exp(-1.0)) + 0.5))
			crossed = qst_ns_to_s(t) - 1.0;
		assert_true(r == floor(r)); /* integers, as the slider reports */
	}
	print_message("63%% point after %.3f s (tau %.2f s)\n", crossed, prof.rating_tau_s);
	assert_true(fabs(crossed - prof.rating_tau_s) < 0.03);
	assert_true(qst_participant_rating(p, qst_s_to_ns(6)) == 50.0);
	qst_participant_free(p);
}

/* The slider scatters by rating_sd around the pain, in steady state. */
static void slider_noise_is_small(void **state)
{
	(void)state;
	struct qst_participant_profile prof = builtin("healthy");
	struct qst_participant *p = make(&prof, 9, NULL);
	double sum = 0, sum2 = 0;
	int n = 0;
	for (int64_t t = 0; t <= qst_s_to_ns(30); t += STEP) {
		qst_participant_feel(p, t, prof.heat_p50_c);
		if (t < qst_s_to_ns(10))
			continue;
		double e = qst_participant_rating(p, t) - qst_participant_pain(p);
		sum += e;
		sum2 += e * e;
		n++;
	}
	double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
	print_message("slider error mean %.3f sd %.3f\n", mean, sd);
	assert_true(fabs(mean) < 0.2);
	assert_true(fabs(sd - sqrt(prof.rating_sd * prof.rating_sd + 1.0 / 12.0)) < 0.15);
	qst_participant_free(p);
}

/* Same seed, same numbers; another seed, other noise. */
static void slider_reproducible(void **state)
{
	(void)state;
	struct qst_participant_profile prof = builtin("sensitized");
	static double a[OA_SAMPLES], b[OA_SAMPLES], c[OA_SAMPLES], pa[OA_SAMPLES],
		pb[OA_SAMPLES];
	struct qst_participant *p[3] = { make(&prof, 42, NULL), make(&prof, 42, NULL),
					 make(&prof, 43, NULL) };
	double *out[3] = { a, b, c };
	struct knot k[4 * TSP_N + 1];
	int nk = train(k, 1.0, 35.0, 47.0, 2.0, 0.5, 0.5, TSP_N);
	for (int j = 0; j < 3; j++) {
		for (int i = 0; i < OA_SAMPLES; i++) {
			int64_t t = i * STEP;
			qst_participant_feel(p[j], t, plate_at(k, nk, qst_ns_to_s(t)));
			out[j][i] = qst_participant_rating(p[j], t);
			if (j < 2)
				(j ? pb : pa)[i] = qst_participant_pain(p[j]);
		}
		qst_participant_free(p[j]);
	}
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_equal(pa, pb, sizeof(pa));
	assert_true(memcmp(a, c, sizeof(a)) != 0);
}

/* Sampling the slider must not change thresholds and presses (the DFNS
 * battery's results with the same seed). */
static void slider_leaves_thresholds_alone(void **state)
{
	(void)state;
	struct qst_participant_profile prof = builtin("healthy");
	struct presses pr[2] = { { 0 }, { 0 } };
	for (int j = 0; j < 2; j++) {
		struct qst_participant *p = make(&prof, 17, &pr[j]);
		struct qst_task task = { QST_TASK_PAIN, +1, 32.0 };
		for (int trial = 0; trial < 3; trial++) {
			int64_t t0 = qst_s_to_ns(trial * 30.0);
			qst_participant_set_task(p, &task, t0);
			for (int64_t t = t0; t < t0 + qst_s_to_ns(20); t += STEP) {
				double c = 32.0 + qst_ns_to_s(t - t0);
				qst_participant_feel(p, t, c > 50 ? 32.0 : c);
				if (j)
					(void)qst_participant_rating(p, t);
			}
		}
		qst_participant_free(p);
	}
	assert_int_equal(pr[0].n, 3);
	assert_int_equal(pr[1].n, pr[0].n);
	assert_memory_equal(pr[0].t, pr[1].t, sizeof(pr[0].t[0]) * 3);
}

/* ----------------------------------------------------------- profiles */

static void profiles_have_perception_fields(void **state)
{
	(void)state;
	const char *want[] = { "heat_p50_c", "heat_slope", "ts_gain", "ts_tau_s",
			       "cpm_efficiency", "cpm_tau_s", "oa_depth", "oa_tau_s",
			       "rating_tau_s", "rating_sd" };
	struct qst_participant_profile prof = builtin("sensitized");
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		bool found = false;
		for (int i = 0; i < qst_participant_profile_field_count(); i++) {
			double v;
			const char *key = qst_participant_profile_field(&prof, i, &v);
			found |= strcmp(key, want[w]) == 0;
		}
		assert_true(found);
	}
	/* Every built-in profile rates 50 somewhere above its pain threshold
	 * and nothing below it. */
	for (const char *const *n = qst_participant_profile_names(); *n; n++) {
		prof = builtin(*n);
		assert_true(prof.heat_p50_c > prof.hpt_c);
		assert_true(prof.rating_tau_s > 0 && prof.ts_tau_s > 0 &&
			    prof.oa_tau_s > 0 && prof.cpm_tau_s > 0);
		assert_true(qst_participant_profile_heat_pain(&prof, prof.hpt_c) == 0.0);
		assert_true(fabs(qst_participant_profile_heat_pain(&prof, prof.heat_p50_c) -
				 50.0) < 1e-9);
	}
	/* The slope at the 50 point is heat_slope per degC. */
	prof = builtin("healthy");
	double d = qst_participant_profile_heat_pain(&prof, prof.heat_p50_c + 0.01) -
		   qst_participant_profile_heat_pain(&prof, prof.heat_p50_c - 0.01);
	assert_true(fabs(d / 0.02 - prof.heat_slope) < 0.01);
	char err[128];
	assert_int_equal(qst_participant_profile_parse(&prof, "oa_depth=1.5", err,
						       sizeof(err)), QST_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tsp_healthy),
		cmocka_unit_test(tsp_sensitized),
		cmocka_unit_test(tsp_needs_pain),
		cmocka_unit_test(cpm_healthy_inhibits),
		cmocka_unit_test(cpm_sensitized_absent),
		cmocka_unit_test(cpm_scales_with_intensity_and_sign),
		cmocka_unit_test(oa_healthy),
		cmocka_unit_test(oa_sensitized_reduced),
		cmocka_unit_test(slider_lags_by_tau),
		cmocka_unit_test(slider_noise_is_small),
		cmocka_unit_test(slider_reproducible),
		cmocka_unit_test(slider_leaves_thresholds_alone),
		cmocka_unit_test(profiles_have_perception_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
