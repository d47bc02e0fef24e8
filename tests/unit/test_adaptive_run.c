/*
 * The adaptive runners (protocols/methods/yesno.c, calibrate.c) against a
 * mock rig: a virtual clock that moves only when the method waits, a
 * plate that follows each ramp exactly, and a subject with a fixed
 * threshold who presses a fixed reaction time after the plate crosses it
 * (and, on request, presses during null stimuli too).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qst_adaptive.h"
#include "qst_analysis.h"
#include "qst_core.h"
#include "qst_methods.h"

#define MAX_ROWS 64
#define MAX_RAMPS 128

struct ramp {
	int64_t t0;
	double from, target, rate, hold, ret;
};

struct mock {
	int64_t now;
	double baseline;
	struct ramp sp;          /* the last ramp */
	bool any_ramp;
	double threshold_c;      /* heat: YES when the plate reaches it */
	double rt_s;
	bool false_alarms;       /* presses during null stimuli as well */
	enum qst_task_kind task;
	int64_t task_t;
	bool pressed;            /* once per task */
	int open_trial, next_trial;
	int n_rows;
	struct qst_trial_record rows[MAX_ROWS];
	int n_ramps;
	double ramp_target[MAX_RAMPS];
	double last_log_value, last_log_value2;
	int n_logs;
	double (*rating)(double level);
	char last_question[192];
	int n_asks;
};

static double plate_at(const struct mock *m, int64_t t)
{
	if (!m->any_ramp || t < m->sp.t0)
		return m->baseline;
	const struct ramp *r = &m->sp;
	double s = qst_ns_to_s(t - r->t0);
	double rise = fabs(r->target - r->from) / r->rate;
	double fall = fabs(r->target - m->baseline) / r->ret;
	if (s < rise)
		return r->from + (r->target > r->from ? 1 : -1) * r->rate * s;
	if (s < rise + r->hold)
		return r->target;
	if (s < rise + r->hold + fall)
		return r->target - (r->target > m->baseline ? 1 : -1) * r->ret *
					   (s - rise - r->hold);
	return m->baseline;
}

static int64_t m_now_fn(void *rig) { return ((struct mock *)rig)->now; }

static int m_ramp(void *rig, double target, double rate, double hold,
		  double ret)
{
	struct mock *m = rig;
	assert_true(m->n_ramps < MAX_RAMPS);
	m->ramp_target[m->n_ramps++] = target;
	m->sp = (struct ramp){ m->now, plate_at(m, m->now), target, rate, hold, ret };
	m->any_ramp = true;
	return QST_OK;
}

static int m_set_baseline(void *rig, double c)
{
	((struct mock *)rig)->baseline = c;
	return QST_OK;
}

static int m_reset(void *rig) { (void)rig; return QST_OK; }

/* When this task's press comes, or -1. */
static int64_t press_time(const struct mock *m)
{
	if (m->pressed || m->task != QST_TASK_DETECT)
		return -1;
	bool ramped = m->any_ramp && m->sp.t0 >= m->task_t;
	if (!ramped)
		return m->false_alarms ? m->task_t + qst_s_to_ns(0.5) : -1;
	if (m->sp.target < m->threshold_c)
		return -1;
	double cross = (m->threshold_c - m->sp.from) / m->sp.rate;
	return m->sp.t0 + qst_s_to_ns(cross + m->rt_s);
}

static int m_await_press(void *rig, int64_t deadline, struct qst_press *p)
{
	struct mock *m = rig;
	int64_t tp = press_time(m);
	if (tp >= m->now && tp <= deadline) {
		m->now = tp;
		m->pressed = true;
		*p = (struct qst_press){ tp, 1, NAN };
		return 1;
	}
	if (deadline > m->now)
		m->now = deadline;
	return 0;
}

static int m_await_temp(void *rig, double target, double tol, int64_t deadline)
{
	struct mock *m = rig;
	(void)tol;
	/* The plate is back when the last ramp's profile has ended. */
	if (m->any_ramp) {
		const struct ramp *r = &m->sp;
		int64_t end = r->t0 + qst_s_to_ns(fabs(r->target - r->from) / r->rate +
						  r->hold +
						  fabs(r->target - m->baseline) / r->ret);
		if (end > deadline)
			return 0;
		if (end > m->now)
			m->now = end;
	}
	return fabs(plate_at(m, m->now) - target) <= 1e-9;
}

static double m_measured(void *rig, int64_t t) { return plate_at(rig, t); }

static void m_task(void *rig, const struct qst_task *t)
{
	struct mock *m = rig;
	m->task = t->kind;
	m->task_t = m->now;
	m->pressed = false;
}

static int m_trial_begin(void *rig)
{
	struct mock *m = rig;
	assert_int_equal(m->open_trial, -1);
	m->open_trial = m->next_trial++;
	return m->open_trial;
}

static int m_trial_end(void *rig, const struct qst_trial_record *t)
{
	struct mock *m = rig;
	assert_int_equal(t->trial_id, m->open_trial);
	m->open_trial = -1;
	assert_true(m->n_rows < MAX_ROWS);
	m->rows[m->n_rows++] = *t;
	return QST_OK;
}

static void m_event(void *rig, int code, double v, double v2, const char *msg)
{
	struct mock *m = rig;
	(void)msg;
	if (code != QST_EVC_LOG)
		return;
	m->n_logs++;
	m->last_log_value = v;
	m->last_log_value2 = v2;
}

static double m_uniform(void *rig) { (void)rig; return 0.0; }

static int m_ask(void *rig, const struct qst_question *q, struct qst_answer *a)
{
	struct mock *m = rig;
	assert_int_equal(q->kind, QST_ANSWER_RATING);
	snprintf(m->last_question, sizeof(m->last_question), "%s", q->text);
	m->n_asks++;
	a->value = m->rating(m->sp.target);
	a->t_ns = m->now;
	return QST_OK;
}

static const struct qst_rig_ops ops = {
	.now = m_now_fn, .ramp = m_ramp, .set_baseline = m_set_baseline,
	.reset_response_timer = m_reset, .await_press = m_await_press,
	.await_temperature = m_await_temp, .measured_at = m_measured,
	.commanded_at = m_measured, .task = m_task,
	.trial_begin = m_trial_begin, .trial_end = m_trial_end,
	.event = m_event, .uniform = m_uniform, .ask = m_ask,
};

static void mock_init(struct mock *m, double threshold)
{
	memset(m, 0, sizeof(*m));
	m->baseline = 32.0;
	m->threshold_c = threshold;
	m->rt_s = 0.4;
	m->open_trial = -1;
}

static struct qst_yesno_params wdt_yesno(void)
{
	return (struct qst_yesno_params){
		.test = QST_WDT, .direction = +1, .baseline_c = 32.0,
		.rate_c_s = 1.0, .return_rate_c_s = 1.0, .hold_s = 1.0,
		.window_s = 2.0, .cutoff_c = 50.0, .isi_s = 6.0,
		.isi_jitter_s = 0.0, .catch_p = 0.0, .max_trials = 30,
	};
}

static struct qst_levels_params wdt_levels(void)
{
	return (struct qst_levels_params){
		.yn = wdt_yesno(), .start_c = 36.0, .initial_step_c = 4.0,
		.min_step_c = 0.25,
	};
}

static void test_levels_runner_trace(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 38.6);
	struct qst_levels_params p = wdt_levels();
	struct qst_adaptive_result r;
	assert_int_equal(qst_method_levels(&ops, &m, &p, 1, &r), QST_OK);
	/* §7.2 trace for a subject whose threshold is 38.6 °C. */
	assert_true(r.threshold == 38.625);
	assert_int_equal(r.end, QST_ADAPT_END_MIN_STEP);
	assert_int_equal(r.presentations, 6);
	assert_int_equal(m.n_rows, 6);
	const double level[] = { 36, 40, 38, 39, 38.5, 38.75 };
	const bool yes[] = { false, true, false, true, false, true };
	for (int i = 0; i < 6; i++) {
		const struct qst_trial_record *t = &m.rows[i];
		assert_true(t->value_commanded == level[i]);
		assert_true(fabs(t->value_measured - level[i]) < 1e-9);
		assert_int_equal(t->t_response_ns >= 0, yes[i]);
		assert_int_equal(t->key, yes[i] ? 1 : -1);
		assert_int_equal(t->flags, QST_TRIAL_ADAPTIVE);
		assert_int_equal(t->repetition, i + 1);
		assert_int_equal(t->test, QST_WDT);
		if (yes[i]) /* RT exclusive: a press is a YES, latency kept */
			assert_true(t->latency_s > 0.4);
	}
	assert_int_equal(m.n_logs, 1);
	assert_true(m.last_log_value == 38.625);

	/* Analysis leaves the presentations out of the DFNS WDT. */
	struct qst_trial_view v[6];
	for (int i = 0; i < 6; i++)
		v[i] = (struct qst_trial_view){
			.test = QST_WDT, .repetition = i + 1, .direction = 1,
			.value = m.rows[i].value_measured, .baseline = 32.0,
			.flags = (unsigned)m.rows[i].flags,
		};
	struct qst_subject subj = { 'F', 30, "hand" };
	struct qst_result res[QST_PARAM_COUNT];
	assert_int_equal(qst_analyze_trials(v, 6, &subj, NULL, res), QST_OK);
	assert_true(res[QST_WDT].flags & QST_RES_NOT_DONE);
}

static int count_flag(const struct mock *m, int flag)
{
	int n = 0;
	for (int i = 0; i < m->n_rows; i++)
		n += (m->rows[i].flags & flag) != 0;
	return n;
}

static void test_levels_runner_catch(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 38.6);
	m.false_alarms = true;
	struct qst_levels_params p = wdt_levels();
	p.yn.catch_p = 0.4;
	struct qst_adaptive_result r;
	assert_int_equal(qst_method_levels(&ops, &m, &p, 7, &r), QST_OK);
	/* Null stimuli do not feed the method: same threshold. */
	assert_true(r.threshold == 38.625);
	assert_int_equal(r.presentations, 6);
	assert_true(r.n_catch > 0);
	assert_int_equal(m.n_rows, 6 + r.n_catch);
	assert_int_equal(count_flag(&m, QST_TRIAL_CATCH), r.n_catch);
	assert_int_equal(r.false_alarms, r.n_catch);
	assert_true(m.last_log_value2 == r.false_alarms);
	/* No ramp for a null stimulus: the plate stays at baseline. */
	assert_int_equal(m.n_ramps, 6);
	for (int i = 0; i < m.n_rows; i++) {
		const struct qst_trial_record *t = &m.rows[i];
		if (!(t->flags & QST_TRIAL_CATCH))
			continue;
		assert_true(t->value_commanded == 32.0);
		assert_true(t->flags & QST_TRIAL_RESPONSE_SUSPECT);
	}

	/* The same seed gives the same schedule; a silent subject no false
	 * alarms. */
	struct mock m2;
	mock_init(&m2, 38.6);
	struct qst_adaptive_result r2;
	assert_int_equal(qst_method_levels(&ops, &m2, &p, 7, &r2), QST_OK);
	assert_int_equal(r2.n_catch, r.n_catch);
	assert_int_equal(r2.false_alarms, 0);
	for (int i = 0; i < m.n_rows; i++)
		assert_int_equal(m.rows[i].flags & QST_TRIAL_CATCH,
				 m2.rows[i].flags & QST_TRIAL_CATCH);
}

static void test_staircase_runner(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 40.3);
	struct qst_staircase_params p = {
		.yn = wdt_yesno(), .n_down = 1, .start_c = 36.0, .step_c = 1.0,
		.min_step_c = 1.0, .reversals = 6, .last_k = 4, .floor_c = 32.0,
	};
	struct qst_adaptive_result r;
	assert_int_equal(qst_method_staircase(&ops, &m, &p, 1, &r), QST_OK);
	/* 36..41 up, then 41 Y / 40 N alternate: reversals 41, 40, ... */
	assert_true(fabs(r.threshold - 40.5) < 1e-12);
	assert_true(r.end & QST_ADAPT_END_REVERSALS);
	assert_int_equal(r.presentations, 11);
	for (int i = 0; i < m.n_ramps; i++)
		assert_true(m.ramp_target[i] <= 50.0);

	p.n_down = 5; /* refused by the core */
	assert_int_equal(qst_method_staircase(&ops, &m, &p, 1, &r), QST_ERR_ARG);
	p.n_down = 1;
	p.yn.test = QST_MDT;
	assert_int_equal(qst_method_staircase(&ops, &m, &p, 1, &r), QST_ERR_ARG);
}

static double rating_minus_42(double level) { return level - 42.0; }
static double rating_zero(double level) { (void)level; return 0.0; }
static double rating_on_100(double level) { (void)level; return 50.0; }

static struct qst_calibrate_params pain5(void)
{
	return (struct qst_calibrate_params){
		.baseline_c = 32.0, .start_c = 45.0, .step_c = 1.0, .target = 5.0,
		.tolerance = 0.0, .bracket = true, .scale = QST_SCALE_NRS10,
		.pulse_s = 0.5, .rate_c_s = 10.0, .return_rate_c_s = 10.0,
		.floor_c = 40.0, .ceiling_c = 48.0, .max_pulses = 15,
		.repeats = 2, .rest_s = 90.0, .isi_s = 10.0,
	};
}

static void test_calibrate_runner(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 99.0);
	m.rating = rating_minus_42;
	struct qst_calibrate_params p = pain5();
	double result = NAN;
	int64_t t0 = m.now;
	assert_int_equal(qst_method_calibrate(&ops, &m, &p, &result), QST_OK);
	assert_true(result == 47.0);
	/* 45, 46, 47 twice; the rest between the two runs. */
	assert_int_equal(m.n_ramps, 6);
	assert_int_equal(m.n_asks, 6);
	assert_true(m.now - t0 > qst_s_to_ns(90.0 + 6 * 10.0));
	assert_non_null(strstr(m.last_question, "nrs10"));
	assert_int_equal(m.n_logs, 2);
	assert_int_equal(m.n_rows, 0);

	/* A subject who never reaches the target: no level above the
	 * ceiling, no result. */
	mock_init(&m, 99.0);
	m.rating = rating_zero;
	assert_int_equal(qst_method_calibrate(&ops, &m, &p, &result), QST_OK);
	assert_true(isnan(result));
	for (int i = 0; i < m.n_ramps; i++)
		assert_true(m.ramp_target[i] <= 48.0);

	/* A 0..100 answer on the 0..10 scale is refused, not rescaled. */
	mock_init(&m, 99.0);
	m.rating = rating_on_100;
	assert_int_equal(qst_method_calibrate(&ops, &m, &p, &result),
			 QST_ERR_DATA);
	p.repeats = 0;
	assert_int_equal(qst_method_calibrate(&ops, &m, &p, &result), QST_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_runner_trace),
		cmocka_unit_test(test_levels_runner_catch),
		cmocka_unit_test(test_staircase_runner),
		cmocka_unit_test(test_calibrate_runner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
