/*
 * Unit tests for the adaptive decision cores (protocols/methods/adaptive.c):
 * the method-of-levels trace of qst-domain.md §7.2, staircase reversal
 * bookkeeping on a hand-written sequence, Levitt's targets (§7.3) reached
 * by a seeded logistic observer, the Pain5 rating-target rule (§7.3) and
 * the catch-trial schedule (§7.5).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qst_adaptive.h"
#include "qst_core.h"

static void assert_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.9f, want %.9f (tolerance %g)", got, want, tol);
}

/* ------------------------------------------------------------ levels */

static struct qst_levels_rule wdt_rule(void)
{
	/* §7.2: base 32 °C, initial step 4, minimum step 0.25. */
	return (struct qst_levels_rule){
		.direction = +1, .start = 36.0, .initial_step = 4.0,
		.min_step = 0.25, .floor = 32.0, .ceiling = 50.0,
		.max_trials = 40,
	};
}

struct step {
	double level;
	bool yes;
};

static void run_levels(struct qst_levels *lv, const struct step *steps,
		       int n)
{
	for (int i = 0; i < n; i++) {
		assert_near(qst_levels_level(lv), steps[i].level, 0);
		int ret = qst_levels_respond(lv, steps[i].yes);
		assert_int_equal(ret, i == n - 1 ? QST_ADAPT_DONE :
						   QST_ADAPT_CONTINUE);
	}
}

static void test_levels_trace(void **state)
{
	(void)state;
	/* §7.2: 36 N, 40 Y → 38 N → 39 Y → 38.5 N → 38.75 Y → stop. */
	const struct step trace[] = {
		{ 36, false }, { 40, true },   { 38, false },
		{ 39, true },  { 38.5, false }, { 38.75, true },
	};
	struct qst_levels_rule r = wdt_rule();
	struct qst_levels lv;
	assert_int_equal(qst_levels_init(&lv, &r), QST_OK);
	run_levels(&lv, trace, 6);
	assert_true(lv.done);
	assert_int_equal(lv.end, QST_ADAPT_END_MIN_STEP);
	/* Exactly, as the steps are binary fractions. */
	assert_true(qst_levels_threshold(&lv) == 38.625);
	assert_true(isnan(qst_levels_level(&lv)));
	assert_int_equal(qst_levels_respond(&lv, true), QST_ERR_STATE);
}

static void test_levels_cold_mirror(void **state)
{
	(void)state;
	/* The same answers while cooling from 32: mirrored about 32 °C. */
	const struct step trace[] = {
		{ 28, false }, { 24, true },   { 26, false },
		{ 25, true },  { 25.5, false }, { 25.25, true },
	};
	struct qst_levels_rule r = wdt_rule();
	r.direction = -1;
	r.start = 28.0;
	r.ceiling = 0.0;
	struct qst_levels lv;
	assert_int_equal(qst_levels_init(&lv, &r), QST_OK);
	run_levels(&lv, trace, 6);
	assert_true(qst_levels_threshold(&lv) == 25.375);
}

static void test_levels_same_direction_keeps_step(void **state)
{
	(void)state;
	/* §7.2 step 2: down by half the step *until a NO*: two YES in a
	 * row keep the step at 2. */
	const struct step trace[] = {
		{ 36, false }, { 40, true }, { 38, true }, { 36, false },
		{ 37, false }, { 38, true }, { 37.5, false }, { 37.75, true },
	};
	struct qst_levels_rule r = wdt_rule();
	struct qst_levels lv;
	assert_int_equal(qst_levels_init(&lv, &r), QST_OK);
	run_levels(&lv, trace, 8);
	assert_true(qst_levels_threshold(&lv) == 37.625);
}

static void test_levels_limits(void **state)
{
	(void)state;
	struct qst_levels_rule r = wdt_rule();
	r.ceiling = 44.0;
	struct qst_levels lv;
	assert_int_equal(qst_levels_init(&lv, &r), QST_OK);
	/* Never felt: 36, 40, 44 and the cut-off ends the run. */
	const struct step never[] = { { 36, false }, { 40, false }, { 44, false } };
	run_levels(&lv, never, 3);
	assert_true(lv.end & QST_ADAPT_END_CEILING);
	assert_true(isnan(qst_levels_threshold(&lv)));

	r = wdt_rule();
	r.max_trials = 3;
	assert_int_equal(qst_levels_init(&lv, &r), QST_OK);
	const struct step capped[] = { { 36, false }, { 40, true }, { 38, false } };
	run_levels(&lv, capped, 3);
	assert_true(lv.end & QST_ADAPT_END_MAX_TRIALS);
	assert_true(qst_levels_threshold(&lv) == 39.0);

	r = wdt_rule();
	r.start = 31.0; /* below the floor */
	assert_int_equal(qst_levels_init(&lv, &r), QST_ERR_ARG);
	r = wdt_rule();
	r.min_step = 0.0;
	assert_int_equal(qst_levels_init(&lv, &r), QST_ERR_ARG);
	r = wdt_rule();
	r.direction = 0;
	assert_int_equal(qst_levels_init(&lv, &r), QST_ERR_ARG);
}

/* --------------------------------------------------------- staircase */

static struct qst_staircase_rule fixed_rule(int n_down)
{
	return (struct qst_staircase_rule){
		.direction = +1, .n_down = n_down, .start = 10.0, .step = 1.0,
		.min_step = 1.0, .max_reversals = 20, .max_trials = 100,
		.last_k = 3, .floor = 0.0, .ceiling = 20.0,
	};
}

static void test_staircase_reversals_by_hand(void **state)
{
	(void)state;
	struct qst_staircase_rule r = fixed_rule(2);
	struct qst_staircase s;
	assert_int_equal(qst_staircase_init(&s, &r), QST_OK);
	/* 1-up/2-down: YY ↓9, YY ↓8, N ↑9 (rev at 8), YY ↓8 (rev at 9),
	 * N ↑9 (rev at 8), N ↑10, YY ↓9 (rev at 10). */
	const struct step seq[] = {
		{ 10, true }, { 10, true }, { 9, true }, { 9, true },
		{ 8, false }, { 9, true },  { 9, true }, { 8, false },
		{ 9, false }, { 10, true }, { 10, true },
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		assert_near(qst_staircase_level(&s), seq[i].level, 0);
		assert_int_equal(qst_staircase_respond(&s, seq[i].yes),
				 QST_ADAPT_CONTINUE);
	}
	assert_near(qst_staircase_level(&s), 9, 0);
	assert_int_equal(s.n_reversals, 4);
	const double want[] = { 8, 9, 8, 10 };
	for (int i = 0; i < 4; i++)
		assert_near(s.reversal[i], want[i], 0);
	assert_near(qst_staircase_threshold(&s), 9.0, 1e-12); /* (9+8+10)/3 */

	/* Stop at the 5th reversal: N at 9 after YY turns down → up. */
	s.rule.max_reversals = 5;
	assert_int_equal(qst_staircase_respond(&s, false), QST_ADAPT_DONE);
	assert_true(s.end & QST_ADAPT_END_REVERSALS);
	assert_false(s.end & QST_ADAPT_FEW_REVERSALS);
	assert_near(s.reversal[4], 9, 0);
	assert_int_equal(qst_staircase_respond(&s, false), QST_ERR_STATE);
}

static void test_staircase_shrinking_and_clamps(void **state)
{
	(void)state;
	struct qst_staircase_rule r = fixed_rule(1);
	r.step = 2.0;
	r.min_step = 0.5;
	struct qst_staircase s;
	assert_int_equal(qst_staircase_init(&s, &r), QST_OK);
	/* Y ↓8; N ↑ (rev, step 1) 9; Y ↓ (rev, 0.5) 8.5; N ↑ (rev, 0.5) 9. */
	const struct step seq[] = {
		{ 10, true }, { 8, false }, { 9, true }, { 8.5, false },
	};
	for (int i = 0; i < 4; i++) {
		assert_near(qst_staircase_level(&s), seq[i].level, 0);
		qst_staircase_respond(&s, seq[i].yes);
	}
	assert_near(qst_staircase_level(&s), 9.0, 0);
	assert_near(s.step, 0.5, 0);

	/* A floor holds: YES for ever from 1 goes to 0 and stays. */
	r = fixed_rule(1);
	r.start = 1.0;
	r.max_trials = 4;
	assert_int_equal(qst_staircase_init(&s, &r), QST_OK);
	for (int i = 0; i < 3; i++)
		qst_staircase_respond(&s, true);
	assert_near(qst_staircase_level(&s), 0.0, 0);
	assert_int_equal(qst_staircase_respond(&s, true), QST_ADAPT_DONE);
	assert_true(s.end & QST_ADAPT_END_MAX_TRIALS);
	assert_true(s.end & QST_ADAPT_FEW_REVERSALS);
	assert_true(isnan(qst_staircase_threshold(&s)));

	/* Cold: more intense is lower, so a NO goes down in °C. */
	r = fixed_rule(1);
	r.direction = -1;
	r.floor = 32.0;
	r.ceiling = 0.0;
	r.start = 28.0;
	assert_int_equal(qst_staircase_init(&s, &r), QST_OK);
	qst_staircase_respond(&s, false);
	assert_near(qst_staircase_level(&s), 27.0, 0);

	r = fixed_rule(4);
	assert_int_equal(qst_staircase_init(&s, &r), QST_ERR_ARG);
	r = fixed_rule(1);
	r.min_step = 2.0; /* above the step */
	assert_int_equal(qst_staircase_init(&s, &r), QST_ERR_ARG);
	r = fixed_rule(1);
	r.max_reversals = QST_STAIRCASE_MAX_REVERSALS + 1;
	assert_int_equal(qst_staircase_init(&s, &r), QST_ERR_ARG);
}

/*
 * Levitt's targets by simulation. The observer says YES with probability
 * 1 / (1 + exp(-(x - MU) / SCALE)) (logistic, seeded, so the run is the
 * same every time). A 1-up/n-down staircase should settle where that
 * probability is 0.5^(1/n): 50 %, 70.7 %, 79.4 %.
 *
 * Tolerance: each run's estimate (mean of the last 12 of 24 reversals,
 * step 0.1 °C = 0.2 SCALE after shrinking) has an SD of ≈ 0.15 °C; over
 * 2000 runs the mean's SE is ≈ 0.004 °C, i.e. ≈ 0.002 in probability
 * where the logistic slope is p(1 − p)/SCALE ≤ 0.5 /°C. The step-size
 * bias of reversal averaging is of the order of the step squared, < 0.01
 * in probability at this step. 0.02 covers both several times over and
 * is still well under half the gap between neighbouring targets (0.087),
 * so a rule that converged on the wrong target fails.
 */
#define MU 40.0
#define SCALE 0.5
#define RUNS 2000

static bool observer_yes(struct qst_rng *rng, double x)
{
	double p = 1.0 / (1.0 + exp(-(x - MU) / SCALE));
	return qst_rng_uniform(rng) < p;
}

static double levitt_mean_threshold(int n_down, uint64_t seed)
{
	struct qst_rng rng;
	qst_rng_seed(&rng, seed);
	struct qst_staircase_rule r = {
		.direction = +1, .n_down = n_down, .start = 37.0, .step = 0.8,
		.min_step = 0.1, .max_reversals = 24, .max_trials = 1000,
		.last_k = 12, .floor = 30.0, .ceiling = 50.0,
	};
	double sum = 0.0;
	for (int run = 0; run < RUNS; run++) {
		struct qst_staircase s;
		assert_int_equal(qst_staircase_init(&s, &r), QST_OK);
		while (qst_staircase_respond(&s, observer_yes(&rng, s.level)) ==
		       QST_ADAPT_CONTINUE)
			;
		assert_true(s.end & QST_ADAPT_END_REVERSALS);
		sum += qst_staircase_threshold(&s);
	}
	return sum / RUNS;
}

static void check_levitt(int n_down, uint64_t seed)
{
	double x = levitt_mean_threshold(n_down, seed);
	double p = 1.0 / (1.0 + exp(-(x - MU) / SCALE));
	double target = qst_staircase_target(n_down);
	print_message("1-up/%d-down: mean threshold %.4f degC, P(yes) %.4f, "
		      "target %.4f\n", n_down, x, p, target);
	assert_near(p, target, 0.02);
}

static void test_levitt_targets(void **state)
{
	(void)state;
	assert_near(qst_staircase_target(1), 0.5, 1e-12);
	assert_near(qst_staircase_target(2), 0.70711, 1e-5); /* §10.3 item 7 */
	assert_near(qst_staircase_target(3), 0.79370, 1e-5);
	check_levitt(1, 11);
	check_levitt(2, 22);
	check_levitt(3, 33);
}

/* -------------------------------------------------- rating target */

static struct qst_rating_target_rule pain5_rule(void)
{
	/* §7.3 (S21): 45 °C, ±1 °C, target 5 on a 0–10 NRS. */
	return (struct qst_rating_target_rule){
		.direction = +1, .start = 45.0, .step = 1.0, .target = 5.0,
		.tolerance = 0.0, .bracket = true, .floor = 40.0,
		.ceiling = 48.0, .max_pulses = 20, .scale = QST_SCALE_NRS10,
	};
}

/* Feed rating(level) until done; returns the pulse count. */
static int calibrate(struct qst_rating_target *c, double (*rating)(double))
{
	int n = 0;
	while (n < 100) {
		n++;
		if (qst_rating_target_respond(c, rating(c->level)) != QST_ADAPT_CONTINUE)
			break;
	}
	return n;
}

static double linear_rating(double t) { return t - 42.0; }     /* 47 → 5 */
static double jumpy_rating(double t) { return 2.0 * (t - 44.0); } /* 46 → 4, 47 → 6 */
static double numb_rating(double t) { (void)t; return 0.0; }
static double hot_rating(double t) { (void)t; return 9.0; }

static void test_rating_target(void **state)
{
	(void)state;
	struct qst_rating_target_rule r = pain5_rule();
	struct qst_rating_target c;
	assert_int_equal(qst_rating_target_init(&c, &r), QST_OK);
	/* 45 → 3, 46 → 4, 47 → 5: recorded. */
	assert_int_equal(calibrate(&c, linear_rating), 3);
	assert_true(c.result == 47.0);
	assert_int_equal(c.end, QST_ADAPT_END_TARGET);

	/* 4 at 46, 6 at 47: bracketed, interpolated to 46.5. */
	assert_int_equal(qst_rating_target_init(&c, &r), QST_OK);
	assert_int_equal(calibrate(&c, jumpy_rating), 3);
	assert_near(c.result, 46.5, 1e-12);

	/* Without the bracket rule the same subject oscillates 46 ↔ 47
	 * until the pulse cap: no result. */
	r.bracket = false;
	r.max_pulses = 9;
	assert_int_equal(qst_rating_target_init(&c, &r), QST_OK);
	assert_int_equal(calibrate(&c, jumpy_rating), 9);
	assert_true(c.end & QST_ADAPT_END_MAX_TRIALS);
	assert_true(isnan(c.result));

	/* A tolerance of 1 accepts the 4 at 46. */
	r = pain5_rule();
	r.tolerance = 1.0;
	assert_int_equal(qst_rating_target_init(&c, &r), QST_OK);
	assert_int_equal(calibrate(&c, jumpy_rating), 2);
	assert_true(c.result == 46.0);

	/* Never above the ceiling: 45..48, then the run ends unfinished. */
	r = pain5_rule();
	assert_int_equal(qst_rating_target_init(&c, &r), QST_OK);
	assert_int_equal(calibrate(&c, numb_rating), 4);
	assert_true(c.end & QST_ADAPT_END_CEILING);
	assert_true(isnan(c.result));
	assert_int_equal(qst_rating_target_init(&c, &r), QST_OK);
	assert_int_equal(calibrate(&c, hot_rating), 6); /* 45 down to 40 */
	assert_true(c.end & QST_ADAPT_END_FLOOR);

	/* Ratings off the scale are refused, not data. */
	assert_int_equal(qst_rating_target_init(&c, &r), QST_OK);
	assert_int_equal(qst_rating_target_respond(&c, 11.0), QST_ERR_ARG);
	assert_int_equal(qst_rating_target_respond(&c, NAN), QST_ERR_ARG);
	assert_int_equal(c.pulses, 0);
	r.scale = QST_SCALE_NRS100;
	r.target = 50;
	assert_int_equal(qst_rating_target_init(&c, &r), QST_OK);
	assert_int_equal(qst_rating_target_respond(&c, 11.0), QST_ADAPT_CONTINUE);
	r.target = 101;
	assert_int_equal(qst_rating_target_init(&c, &r), QST_ERR_ARG);
	r = pain5_rule();
	r.scale = 7;
	assert_int_equal(qst_rating_target_init(&c, &r), QST_ERR_ARG);
	assert_string_equal(qst_rating_scale_name(QST_SCALE_NRS10), "nrs10");
	assert_string_equal(qst_rating_scale_name(QST_SCALE_NRS100), "nrs100");
}

/* ------------------------------------------------------ catch trials */

static void test_catch_schedule(void **state)
{
	(void)state;
	struct qst_catch a, b;
	assert_int_equal(qst_catch_init(&a, 0.2, 42), QST_OK);
	assert_int_equal(qst_catch_init(&b, 0.2, 42), QST_OK);
	int n = 10000, diff = 0;
	struct qst_catch other;
	qst_catch_init(&other, 0.2, 43);
	for (int i = 0; i < n; i++) {
		bool x = qst_catch_next(&a);
		assert_true(x == qst_catch_next(&b)); /* seeded: reproducible */
		diff += x != qst_catch_next(&other);
	}
	/* Binomial(10000, 0.2): SD 40, so ±160 is 4 SD. */
	assert_in_range(a.n_catch, 2000 - 160, 2000 + 160);
	assert_true(diff > 1000); /* another seed, another schedule */

	struct qst_catch none;
	assert_int_equal(qst_catch_init(&none, 0.0, 1), QST_OK);
	for (int i = 0; i < 1000; i++)
		assert_false(qst_catch_next(&none));
	qst_catch_record(&a, true);
	qst_catch_record(&a, false);
	assert_int_equal(a.n_false_alarms, 1);
	assert_int_equal(qst_catch_init(&a, 1.0, 1), QST_ERR_ARG);
	assert_int_equal(qst_catch_init(&a, -0.1, 1), QST_ERR_ARG);
	assert_int_equal(qst_catch_init(&a, NAN, 1), QST_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_trace),
		cmocka_unit_test(test_levels_cold_mirror),
		cmocka_unit_test(test_levels_same_direction_keeps_step),
		cmocka_unit_test(test_levels_limits),
		cmocka_unit_test(test_staircase_reversals_by_hand),
		cmocka_unit_test(test_staircase_shrinking_and_clamps),
		cmocka_unit_test(test_levitt_targets),
		cmocka_unit_test(test_rating_target),
		cmocka_unit_test(test_catch_schedule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
