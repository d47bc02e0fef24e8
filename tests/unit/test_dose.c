/*
 * The thermal dose guard (qst-domain.md §8.2 interlock 2): exposure
 * accounting from readbacks, the worst-case time above threshold of one
 * stimulus, and the refusals at plan time and while stimulating.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qst_supervisor.h"

#define MS (QST_NS_PER_S / 1000)

static struct qst_dose_guard guard;
static struct qst_thermal_limits lim;

static int setup(void **state)
{
	(void)state;
	qst_thermal_limits_default(&lim);
	qst_dose_init(&guard, &lim);
	return 0;
}

/* Readbacks every 10 ms at `c` from t0 for `seconds`; returns the end. */
static int64_t feed(int64_t t0, double seconds, double c)
{
	int64_t t = t0;
	for (int i = 0; i <= (int)llround(seconds * 100); i++, t += 10 * MS)
		qst_dose_note(&guard, t, c);
	return t - 10 * MS;
}

static void defaults_are_the_spec(void **state)
{
	(void)state;
	assert_true(lim.dose_threshold_c == 45.0);
	assert_true(lim.dose_budget_s == 120.0);
	assert_true(lim.dose_window_s == 600.0);
}

static void stimulus_time_above_threshold(void **state)
{
	(void)state;
	/* HPT worst case: 32 → 50 °C at 1 °C/s, back at 5 °C/s: 5 s + 1 s. */
	assert_float_equal(qst_dose_stimulus_s(45, 32, 50, 1, 0, 5, 32), 6.0, 1e-12);
	/* A hold counts only above the threshold. */
	assert_float_equal(qst_dose_stimulus_s(45, 32, 47, 1, 10, 1, 32), 14.0, 1e-12);
	assert_float_equal(qst_dose_stimulus_s(45, 32, 44, 1, 100, 1, 32), 0.0, 1e-12);
	/* Starting above the threshold (a TSL leg from the warm side). */
	assert_float_equal(qst_dose_stimulus_s(45, 48, 0, 1, 0, 1, 32), 3.0, 1e-12);
}

static void exposure_counts_only_time_above(void **state)
{
	(void)state;
	int64_t t = feed(0, 60.0, 46.0);
	t = feed(t + 10 * MS, 30.0, 40.0);
	t = feed(t + 10 * MS, 20.0, 46.0);
	/* 60 s + 20 s above; the two edge steps straddling 40 °C do not count. */
	assert_float_equal(qst_dose_exposed_s(&guard, 0, t), 80.0, 0.02);
	/* A window that starts inside the first span sees only its end. */
	assert_float_equal(qst_dose_exposed_s(&guard, 50 * QST_NS_PER_S, t), 30.0, 0.02);
}

static void plan_refused_over_budget_and_allowed_later(void **state)
{
	(void)state;
	char why[256];
	int64_t t = feed(0, 116.0, 47.0);
	/* 116 s so far + 6 s of an HPT ramp to 50 °C > 120 s. */
	assert_int_equal(qst_dose_check_stimulus(&guard, t, 32, 50, 1, 0, 5, 32,
						 why, sizeof(why)), QST_ERR_LIMIT);
	assert_non_null(strstr(why, "would exceed the 120 s budget"));
	assert_non_null(strstr(why, "interlock 2"));
	/* A stimulus that stays below the threshold is never a dose. */
	assert_int_equal(qst_dose_check_stimulus(&guard, t, 32, 44, 1, 0, 5, 32,
						 why, sizeof(why)), QST_OK);
	/* Ten minutes later the window has moved past the exposure. */
	int64_t later = t + 600 * QST_NS_PER_S;
	assert_int_equal(qst_dose_check_stimulus(&guard, later, 32, 50, 1, 0, 5, 32,
						 why, sizeof(why)), QST_OK);
}

static void hot_thermode_caught_while_stimulating(void **state)
{
	(void)state;
	char why[256];
	int64_t t = feed(0, 119.0, 46.0);
	assert_int_equal(qst_dose_check_now(&guard, t, why, sizeof(why)), QST_OK);
	t = feed(t + 10 * MS, 2.0, 46.0);
	assert_int_equal(qst_dose_check_now(&guard, t, why, sizeof(why)), QST_ERR_LIMIT);
	assert_non_null(strstr(why, "above 45 degC"));
}

/* Many short spans inside one window: the table fills, and merging must
 * over-count, never under-count. */
static void full_span_table_errs_on_the_safe_side(void **state)
{
	(void)state;
	int64_t t = 0;
	double truth = 0;
	for (int i = 0; i < 3 * QST_DOSE_MAX_SPANS; i++) {
		qst_dose_note(&guard, t, 46.0);
		qst_dose_note(&guard, t + 20 * MS, 46.0);
		qst_dose_note(&guard, t + 30 * MS, 40.0);
		truth += 0.020;
		t += 100 * MS;
	}
	assert_true(guard.n_spans <= QST_DOSE_MAX_SPANS);
	double seen = qst_dose_exposed_s(&guard, 0, t);
	assert_true(seen >= truth - 1e-9);
	assert_true(seen <= qst_ns_to_s(t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(defaults_are_the_spec, setup),
		cmocka_unit_test_setup(stimulus_time_above_threshold, setup),
		cmocka_unit_test_setup(exposure_counts_only_time_above, setup),
		cmocka_unit_test_setup(plan_refused_over_budget_and_allowed_later, setup),
		cmocka_unit_test_setup(hot_thermode_caught_while_stimulating, setup),
		cmocka_unit_test_setup(full_span_table_errs_on_the_safe_side, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
