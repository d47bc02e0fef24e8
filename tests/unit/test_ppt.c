/*
 * PPT method (protocols/methods/ppt.c) against a mock rig: a virtual
 * clock that moves only when the method waits, an algometer reading that
 * rises linearly from the moment the operator is told to press, and a
 * subject who presses a fixed time after a threshold pressure.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qst_analysis.h"
#include "qst_core.h"
#include "qst_methods.h"

#define SEC QST_NS_PER_S
#define MAX_ROWS 16
#define MAX_EVENTS 64

struct mock {
	int64_t now;
	double true_rate;      /* kPa/s the hand achieves */
	double threshold_kpa;  /* the subject's PPT */
	double rt_s;           /* then presses after this */
	bool stuck;            /* the reading never falls back */
	bool applied;
	int64_t onset;
	double released_at_kpa;
	int n_apply, n_release, n_reset;
	enum qst_task_kind task;
	int tasks_pain;
	int open_trial, next_trial;
	int n_rows;
	struct qst_trial_record rows[MAX_ROWS];
	int n_events;
	int ev_code[MAX_EVENTS];
	double ev_value[MAX_EVENTS];
	int n_cues;
	char last_cue[192];
};

static double kpa_at(const struct mock *m, int64_t t)
{
	if (!m->applied)
		return m->stuck ? m->released_at_kpa : 0.0;
	if (t < m->onset)
		return 0.0;
	return m->true_rate * qst_ns_to_s(t - m->onset);
}

static int64_t press_time(const struct mock *m)
{
	return m->onset + qst_s_to_ns(m->threshold_kpa / m->true_rate + m->rt_s);
}

static int64_t m_now(void *rig) { return ((struct mock *)rig)->now; }

static int m_await_press(void *rig, int64_t deadline, struct qst_press *p)
{
	struct mock *m = rig;
	if (m->applied && m->task == QST_TASK_PRESSURE_PAIN) {
		int64_t tp = press_time(m);
		if (tp >= m->now && tp <= deadline) {
			m->now = tp;
			p->t_ns = tp;
			p->key = 1;
			p->device_rt_s = 0.25;
			return 1;
		}
	}
	if (deadline > m->now)
		m->now = deadline;
	return 0;
}

static int m_reset(void *rig) { ((struct mock *)rig)->n_reset++; return QST_OK; }

static void m_task(void *rig, const struct qst_task *t)
{
	struct mock *m = rig;
	m->task = t->kind;
	if (t->kind == QST_TASK_PRESSURE_PAIN) {
		assert_int_equal(t->direction, 1);
		m->tasks_pain++;
	}
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

static void m_event(void *rig, int code, double value, double value2,
		    const char *msg)
{
	(void)value2;
	(void)msg;
	struct mock *m = rig;
	assert_true(m->n_events < MAX_EVENTS);
	m->ev_code[m->n_events] = code;
	m->ev_value[m->n_events] = value;
	m->n_events++;
}

static void m_cue(void *rig, const char *text)
{
	struct mock *m = rig;
	m->n_cues++;
	snprintf(m->last_cue, sizeof(m->last_cue), "%s", text);
}

static int m_apply(void *rig, double rate)
{
	struct mock *m = rig;
	assert_true(rate == 50.0);
	assert_false(m->applied);
	m->applied = true;
	m->onset = m->now;
	m->n_apply++;
	return QST_OK;
}

static int m_release(void *rig)
{
	struct mock *m = rig;
	m->released_at_kpa = kpa_at(m, m->now);
	m->applied = false;
	m->n_release++;
	return QST_OK;
}

static double m_pressure_at(void *rig, int64_t t)
{
	return kpa_at(rig, t);
}

static int m_await_below(void *rig, double kpa, int64_t deadline)
{
	struct mock *m = rig;
	assert_true(kpa > 0 && kpa <= 10);
	if (!m->stuck)
		return 1;
	m->now = deadline;
	return 0;
}

static double m_uniform(void *rig) { (void)rig; return 0.5; }

static const struct qst_rig_ops ops = {
	.now = m_now, .await_press = m_await_press,
	.reset_response_timer = m_reset, .task = m_task,
	.trial_begin = m_trial_begin, .trial_end = m_trial_end,
	.event = m_event, .uniform = m_uniform, .cue = m_cue,
	.pressure_apply = m_apply, .pressure_release = m_release,
	.pressure_at = m_pressure_at, .await_pressure_below = m_await_below,
};

static void mock_init(struct mock *m, double rate, double threshold)
{
	memset(m, 0, sizeof(*m));
	m->now = 100 * SEC;
	m->true_rate = rate;
	m->threshold_kpa = threshold;
	m->rt_s = 0.3;
	m->open_trial = -1;
}

static const struct qst_ppt_params params = {
	.trials = 3, .rate_kpa_s = 50.0, .isi_s = 10.0, .site_text = "thenar",
};

static bool has_event(const struct mock *m, int code)
{
	for (int i = 0; i < m->n_events; i++)
		if (m->ev_code[i] == code)
			return true;
	return false;
}

/* PPT 400 kPa, RT 0.3 s at 50 kPa/s: the press reads 415 kPa (§7.1). */
static void test_press_gives_value(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 50.0, 400.0);
	assert_int_equal(qst_method_ppt(&ops, &m, &params), QST_OK);
	assert_int_equal(m.n_rows, 3);
	assert_int_equal(m.n_apply, 3);
	assert_int_equal(m.n_release, 3);
	assert_int_equal(m.n_reset, 3);
	assert_int_equal(m.tasks_pain, 3);
	assert_int_equal(m.task, QST_TASK_NONE);
	assert_int_equal(m.n_cues, 3);
	assert_non_null(strstr(m.last_cue, "PPT 3/3"));
	assert_non_null(strstr(m.last_cue, "thenar"));
	for (int i = 0; i < 3; i++) {
		const struct qst_trial_record *t = &m.rows[i];
		assert_int_equal(t->test, QST_PPT);
		assert_int_equal(t->repetition, i + 1);
		assert_int_equal(t->direction, 1);
		assert_true(t->baseline_c == 0.0);
		assert_true(t->cutoff_c == QST_PPT_CEILING_KPA);
		assert_true(fabs(t->value_measured - 415.0) < 1e-6);
		assert_true(isnan(t->value_commanded));
		assert_true(fabs(t->rate_c_s - 50.0) < 1e-6);
		assert_true(fabs(t->latency_s - 8.3) < 1e-6);
		assert_true(t->device_rt_s == 0.25);
		assert_int_equal(t->key, 1);
		assert_int_equal(t->flags, 0);
		assert_true(t->t_onset_ns - t->t_start_ns == 10 * SEC);
		assert_true(t->t_response_ns > t->t_onset_ns);
		assert_true(t->t_stop_ns >= t->t_response_ns);
	}
	assert_false(has_event(&m, QST_EVC_CUTOFF_REACHED));
}

/* A subject who never presses: stopped at the 2000 kPa ceiling (§8.3). */
static void test_ceiling_cutoff(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 50.0, 1e9);
	struct qst_ppt_params p = params;
	p.trials = 1;
	assert_int_equal(qst_method_ppt(&ops, &m, &p), QST_OK);
	assert_int_equal(m.n_rows, 1);
	const struct qst_trial_record *t = &m.rows[0];
	assert_true(t->flags & QST_TRIAL_CUTOFF_REACHED);
	assert_true(t->value_measured >= 2000.0 && t->value_measured < 2001.5);
	assert_true(t->t_response_ns == -1);
	assert_int_equal(t->key, -1);
	assert_true(fabs(t->rate_c_s - 50.0) < 1e-6);
	assert_true(has_event(&m, QST_EVC_CUTOFF_REACHED));
	assert_int_equal(m.n_release, 1);
	/* stopped within a slice of the ceiling: 40 s of ramp */
	assert_true(m.now - m.onset <= qst_s_to_ns(40.02));
}

/* A slow hand never reaches the ceiling: stopped after 60 s. */
static void test_time_cutoff(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 10.0, 1e9);
	struct qst_ppt_params p = params;
	p.trials = 1;
	assert_int_equal(qst_method_ppt(&ops, &m, &p), QST_OK);
	const struct qst_trial_record *t = &m.rows[0];
	assert_true(t->flags & QST_TRIAL_CUTOFF_REACHED);
	assert_true(fabs(t->value_measured - 600.0) < 1e-6);
	assert_true(fabs(t->rate_c_s - 10.0) < 1e-6);
	assert_true(has_event(&m, QST_EVC_CUTOFF_REACHED));
}

/* The gauge stays loaded after release: the row is kept, then a fault. */
static void test_stuck_release_is_a_fault(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 50.0, 300.0);
	m.stuck = true;
	assert_int_equal(qst_method_ppt(&ops, &m, &params), QST_ERR_DEVICE);
	assert_int_equal(m.n_rows, 1);
	assert_true(fabs(m.rows[0].value_measured - 315.0) < 1e-6);
	assert_true(has_event(&m, QST_EVC_DEVICE_FAULT));
}

static void test_bad_params(void **state)
{
	(void)state;
	struct mock m;
	mock_init(&m, 50.0, 300.0);
	struct qst_ppt_params p = params;
	p.trials = 0;
	assert_int_equal(qst_method_ppt(&ops, &m, &p), QST_ERR_ARG);
	p = params;
	p.rate_kpa_s = 0;
	assert_int_equal(qst_method_ppt(&ops, &m, &p), QST_ERR_ARG);
	p.rate_kpa_s = NAN;
	assert_int_equal(qst_method_ppt(&ops, &m, &p), QST_ERR_ARG);
	p = params;
	p.isi_s = -1;
	assert_int_equal(qst_method_ppt(&ops, &m, &p), QST_ERR_ARG);
	assert_int_equal(m.n_rows, 0);
	assert_int_equal(m.n_apply, 0);
}

static void test_rate_helper(void **state)
{
	(void)state;
	double t[] = { 10.0, 10.5, 11.0, 12.0, 13.5 };
	double k[5];
	for (int i = 0; i < 5; i++)
		k[i] = 7.0 + 50.0 * t[i];
	assert_true(fabs(qst_ppt_rate_kpa_s(t, k, 5) - 50.0) < 1e-9);
	/* symmetric wobble about the line leaves the slope */
	double t2[] = { 0, 1, 2, 3, 4 };
	double k2[] = { 0 + 1, 50 - 1, 100, 150 + 1, 200 - 1 };
	double s = qst_ppt_rate_kpa_s(t2, k2, 5);
	assert_true(fabs(s - 49.8) < 1e-9); /* Σ(t−2)e / Σ(t−2)² = −2/10 */
	assert_true(fabs(qst_ppt_rate_kpa_s(t, k, 2) - 50.0) < 1e-9);
	assert_true(isnan(qst_ppt_rate_kpa_s(t, k, 1)));
	assert_true(isnan(qst_ppt_rate_kpa_s(NULL, k, 5)));
	double same[] = { 1, 1, 1 };
	assert_true(isnan(qst_ppt_rate_kpa_s(same, k, 3)));
	k[2] = NAN;
	assert_true(isnan(qst_ppt_rate_kpa_s(t, k, 5)));
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_press_gives_value),
		cmocka_unit_test(test_ceiling_cutoff),
		cmocka_unit_test(test_time_cutoff),
		cmocka_unit_test(test_stuck_release_is_a_fault),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_rate_helper),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
