/*
 * Station runtime pieces that need no devices: the safety supervisor's
 * rules, the event queue, and the virtual participant's timing.
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
#include "qst_station.h"
#include "qst_supervisor.h"

static void supervisor_accepts_dfns_stimuli(void **state)
{
	(void)state;
	struct qst_thermal_limits lim;
	qst_thermal_limits_default(&lim);
	char why[200];
	assert_int_equal(qst_supervisor_check_ramp(&lim, 0.0, 1.0, 0, 1.0, why, sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_ramp(&lim, 50.0, 1.0, 0, 5.0, why, sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_neutral(&lim, 32.0, why, sizeof(why)), QST_OK);
}

static void supervisor_refuses_beyond_limits(void **state)
{
	(void)state;
	struct qst_thermal_limits lim;
	qst_thermal_limits_default(&lim);
	char why[200];
	assert_int_equal(qst_supervisor_check_ramp(&lim, 50.1, 1.0, 0, 1.0, why, sizeof(why)),
			 QST_ERR_LIMIT);
	assert_non_null(strstr(why, "above the station maximum of 50.0"));
	assert_int_equal(qst_supervisor_check_ramp(&lim, -0.5, 1.0, 0, 1.0, why, sizeof(why)),
			 QST_ERR_LIMIT);
	assert_int_equal(qst_supervisor_check_ramp(&lim, 40.0, 10.5, 0, 1.0, why, sizeof(why)),
			 QST_ERR_LIMIT);
	assert_non_null(strstr(why, "ramp rate 10.50"));
	assert_int_equal(qst_supervisor_check_ramp(&lim, 40.0, 1.0, 0, 0.0, why, sizeof(why)),
			 QST_ERR_LIMIT);
	assert_int_equal(qst_supervisor_check_ramp(&lim, NAN, 1.0, 0, 1.0, why, sizeof(why)),
			 QST_ERR_LIMIT);
	/* qst-domain.md §8.2 interlock 2: holds >= 48 °C at most 30 s. */
	assert_int_equal(qst_supervisor_check_ramp(&lim, 48.0, 1.0, 30.0, 1.0, why, sizeof(why)),
			 QST_OK);
	assert_int_equal(qst_supervisor_check_ramp(&lim, 48.0, 1.0, 30.5, 1.0, why, sizeof(why)),
			 QST_ERR_LIMIT);
	assert_int_equal(qst_supervisor_check_neutral(&lim, 41.0, why, sizeof(why)), QST_ERR_LIMIT);
	assert_int_equal(qst_supervisor_check_readback(&lim, 51.2, why, sizeof(why)), QST_ERR_LIMIT);
	assert_int_equal(qst_supervisor_check_readback(&lim, 50.8, why, sizeof(why)), QST_OK);
}

/* qst-domain.md §8.2 interlock 3: > 2 °C off the command for 1 s aborts. */
static void tracking_check_needs_distance_and_time(void **state)
{
	(void)state;
	struct qst_thermal_limits lim;
	qst_thermal_limits_default(&lim);
	assert_true(lim.track_tol_c == 2.0);
	assert_int_equal(lim.track_time_ns, QST_NS_PER_S);
	struct qst_tracking tr = { 0 };
	char why[200] = "";
	const int64_t ms = QST_NS_PER_MS;
	/* Lagging 1.9 °C behind for as long as you like is fine. */
	for (int64_t t = 0; t <= 3000 * ms; t += 10 * ms)
		assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, t, 43.1, 45.0,
							       why, sizeof(why)), QST_OK);
	/* 6.8 °C off from 5.00 s: tolerated until it has lasted 1 s. */
	int64_t t;
	for (t = 5000 * ms; t < 6000 * ms; t += 10 * ms)
		assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, t, 38.2, 45.0,
							       why, sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, t, 38.2, 45.0,
						       why, sizeof(why)), QST_ERR_LIMIT);
	assert_string_equal(why, "thermode readback 38.2 °C diverges from command "
			    "45.0 °C by 6.8 °C for 1.00 s");
	/* One sample back on track ends the excursion; so does a reset. */
	qst_tracking_reset(&tr);
	assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, 7000 * ms, 52.0,
						       49.0, why, sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, 7900 * ms, 44.9,
						       45.0, why, sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, 8500 * ms, 52.0,
						       49.0, why, sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, 9400 * ms, 52.0,
						       49.0, why, sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, 9500 * ms, 52.0,
						       49.0, why, sizeof(why)), QST_ERR_LIMIT);
	assert_non_null(strstr(why, "by 3.0 °C for 1.00 s"));
	/* No command to compare with: nothing to judge. */
	qst_tracking_reset(&tr);
	assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, 0, 30.0, NAN, why,
						       sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_tracking(&lim, &tr, 2 * QST_NS_PER_S,
						       30.0, NAN, why, sizeof(why)), QST_OK);
}

/* Link noise: counted while it comes in short stretches, a fault once a
 * stretch lasts 1 s; reports more than 250 ms apart start a new one. */
static void noise_check_tolerates_bursts(void **state)
{
	(void)state;
	struct qst_thermal_limits lim;
	qst_thermal_limits_default(&lim);
	struct qst_link_noise ln = { 0 };
	char why[200] = "";
	const int64_t ms = QST_NS_PER_MS;
	assert_int_equal(qst_supervisor_check_noise(&lim, &ln, "response pad", 100 * ms,
						    5, why, sizeof(why)), 1);
	for (int64_t t = 110 * ms; t < 400 * ms; t += 10 * ms)
		assert_int_equal(qst_supervisor_check_noise(&lim, &ln, "response pad", t,
							    5, why, sizeof(why)), 0);
	/* 300 ms of quiet: the next burst is a new stretch. */
	assert_int_equal(qst_supervisor_check_noise(&lim, &ln, "response pad", 690 * ms,
						    5, why, sizeof(why)), 1);
	int64_t t;
	for (t = 700 * ms; t < 1690 * ms; t += 200 * ms)
		assert_int_equal(qst_supervisor_check_noise(&lim, &ln, "response pad", t,
							    2, why, sizeof(why)), 0);
	assert_int_equal(qst_supervisor_check_noise(&lim, &ln, "response pad", 1690 * ms,
						    3, why, sizeof(why)), QST_ERR_LIMIT);
	assert_string_equal(why, "response pad link corrupt for 1.00 s (18 bytes discarded)");
	qst_link_noise_reset(&ln);
	assert_int_equal(qst_supervisor_check_noise(&lim, &ln, "thermode", 5 * QST_NS_PER_S,
						    1, why, sizeof(why)), 1);
}

static void evq_is_fifo_and_bounded(void **state)
{
	(void)state;
	struct qst_evq q;
	assert_int_equal(qst_evq_init(&q), QST_OK);
	struct qst_event ev = { .type = QST_EV_BUTTON };
	for (int i = 0; i < QST_EVQ_CAPACITY + 5; i++) {
		ev.t_ns = i;
		qst_evq_push(&q, &ev);
	}
	assert_int_equal(q.dropped, 5);
	for (int i = 0; i < QST_EVQ_CAPACITY; i++) {
		assert_true(qst_evq_pop(&q, &ev));
		assert_int_equal(ev.t_ns, i);
	}
	assert_false(qst_evq_pop(&q, &ev));
	assert_false(qst_evq_pop_wait(&q, qst_monotonic_ns() + QST_NS_PER_MS, &ev));
	qst_evq_destroy(&q);
}

struct presses {
	int n;
	int64_t t[8];
	int key[8];
	bool pressed[8];
};

static int record_press(void *user, int64_t t_ns, int key, bool pressed)
{
	struct presses *p = user;
	if (p->n < 8) {
		p->t[p->n] = t_ns;
		p->key[p->n] = key;
		p->pressed[p->n] = pressed;
		p->n++;
	}
	return 0;
}

/* A noiseless participant with a fixed RT must press exactly RT after the
 * plate crosses the threshold, however coarsely it is stepped. */
static void participant_presses_at_crossing_plus_rt(void **state)
{
	(void)state;
	struct qst_participant_profile prof;
	assert_int_equal(qst_participant_profile_builtin("healthy", &prof), QST_OK);
	char err[128];
	assert_int_equal(qst_participant_profile_parse(&prof,
		"wdt_delta_c=2,detect_sd_c=0,rt_mean_s=0.5,rt_sd_s=0", err, sizeof(err)), QST_OK);
	struct presses got = { 0 };
	struct qst_participant *p;
	assert_int_equal(qst_participant_new(&prof, 1, record_press, &got, &p), QST_OK);
	struct qst_task task = { QST_TASK_DETECT, +1, 32.0 };
	qst_participant_set_task(p, &task, 0);
	/* 1 °C/s from 32 °C, felt every 30 ms: crosses 34 °C at t = 2 s. */
	for (int64_t t = 0; t <= 3 * QST_NS_PER_S; t += 30 * QST_NS_PER_MS)
		qst_participant_feel(p, t, 32.0 + qst_ns_to_s(t));
	assert_int_equal(got.n, 2); /* press and release, once */
	assert_true(got.pressed[0]);
	assert_false(got.pressed[1]);
	assert_int_equal(got.key[0], 1);
	assert_true(llabs(got.t[0] - 2500 * QST_NS_PER_MS) < 1000);
	qst_participant_free(p);
}

static void participant_profile_errors_name_the_field(void **state)
{
	(void)state;
	struct qst_participant_profile prof;
	char err[128];
	assert_int_equal(qst_participant_profile_builtin("nobody", &prof), QST_ERR_NOTFOUND);
	qst_participant_profile_builtin("healthy", &prof);
	assert_int_equal(qst_participant_profile_parse(&prof, "hpt=41", err, sizeof(err)),
			 QST_ERR_ARG);
	assert_non_null(strstr(err, "unknown participant field 'hpt'"));
	assert_int_equal(qst_participant_profile_parse(&prof, "hpt_c=70", err, sizeof(err)),
			 QST_ERR_ARG);
	assert_non_null(strstr(err, "hpt_c"));
	assert_int_equal(qst_participant_profile_parse(&prof, "hpt_c", err, sizeof(err)),
			 QST_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(supervisor_accepts_dfns_stimuli),
		cmocka_unit_test(supervisor_refuses_beyond_limits),
		cmocka_unit_test(tracking_check_needs_distance_and_time),
		cmocka_unit_test(noise_check_tolerates_bursts),
		cmocka_unit_test(evq_is_fifo_and_bounded),
		cmocka_unit_test(participant_presses_at_crossing_plus_rt),
		cmocka_unit_test(participant_profile_errors_name_the_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
