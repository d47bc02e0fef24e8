/*
 * Unit tests for the operator-guided methods (protocols/methods/series.c,
 * srf.c, wur.c, vdt.c) against a mock rig: a fake clock that moves only
 * when the method waits or asks, and a scripted answerer.
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

#define MAX_ASKS 256
#define MAX_ROWS 128
#define MAX_EVENTS 64
#define MAX_CUES 128
/* The mock operator takes this long per answer. */
#define ASK_NS (2 * QST_NS_PER_S)

struct mock_rig;
typedef double (*answerer)(struct mock_rig *m, const struct qst_question *q);

struct mock_rig {
	int64_t now;
	answerer answer;
	double threshold_mn; /* for the threshold answerers */
	double uniform;
	int not_done_at;     /* 1-based ask that the operator skips; 0 never */
	int open_trial;      /* -1 when none */
	int next_trial;
	int n_asks;
	struct {
		int test, kind, stimulus;
		double value;
		char text[160];
	} asks[MAX_ASKS];
	int n_rows;
	struct qst_trial_record rows[MAX_ROWS];
	int n_events;
	struct {
		int code;
		double value;
		char message[256];
	} events[MAX_EVENTS];
	int n_cues;
	int64_t cue_ns[MAX_CUES];
	char cue_text[MAX_CUES][96];
};

static int64_t m_now(void *rig)
{
	return ((struct mock_rig *)rig)->now;
}

static int m_await_press(void *rig, int64_t deadline_ns,
			 struct qst_press *press)
{
	(void)press;
	struct mock_rig *m = rig;
	if (deadline_ns > m->now)
		m->now = deadline_ns;
	return 0;
}

static int m_trial_begin(void *rig)
{
	struct mock_rig *m = rig;
	assert_int_equal(m->open_trial, -1); /* never two open rows */
	m->open_trial = m->next_trial++;
	return m->open_trial;
}

static int m_trial_end(void *rig, const struct qst_trial_record *t)
{
	struct mock_rig *m = rig;
	assert_int_equal(t->trial_id, m->open_trial);
	m->open_trial = -1;
	assert_true(m->n_rows < MAX_ROWS);
	m->rows[m->n_rows++] = *t;
	return QST_OK;
}

static void m_event(void *rig, int code, double value, double value2,
		    const char *message)
{
	(void)value2;
	struct mock_rig *m = rig;
	if (m->n_events >= MAX_EVENTS)
		return;
	m->events[m->n_events].code = code;
	m->events[m->n_events].value = value;
	snprintf(m->events[m->n_events].message,
		 sizeof(m->events[0].message), "%s", message ? message : "");
	m->n_events++;
}

static double m_uniform(void *rig)
{
	return ((struct mock_rig *)rig)->uniform;
}

static int m_ask(void *rig, const struct qst_question *q,
		 struct qst_answer *a)
{
	struct mock_rig *m = rig;
	assert_true(m->n_asks < MAX_ASKS);
	assert_non_null(q->text);
	m->asks[m->n_asks].test = q->test;
	m->asks[m->n_asks].kind = q->kind;
	m->asks[m->n_asks].stimulus = q->stimulus;
	m->asks[m->n_asks].value = q->stimulus_value;
	snprintf(m->asks[m->n_asks].text, sizeof(m->asks[0].text), "%s",
		 q->text);
	m->n_asks++;
	m->now += ASK_NS;
	a->t_ns = m->now;
	if (m->n_asks == m->not_done_at) {
		a->not_done = true;
		snprintf(a->reason, sizeof(a->reason), "subject declined");
		return QST_OK;
	}
	a->value = m->answer(m, q);
	return QST_OK;
}

static void m_cue(void *rig, const char *text)
{
	struct mock_rig *m = rig;
	assert_true(m->n_cues < MAX_CUES);
	m->cue_ns[m->n_cues] = m->now;
	snprintf(m->cue_text[m->n_cues], sizeof(m->cue_text[0]), "%s", text);
	m->n_cues++;
}

static const struct qst_rig_ops ops = {
	.now = m_now,
	.await_press = m_await_press,
	.trial_begin = m_trial_begin,
	.trial_end = m_trial_end,
	.event = m_event,
	.uniform = m_uniform,
	.ask = m_ask,
	.cue = m_cue,
};

static void mock_init(struct mock_rig *m, answerer answer)
{
	memset(m, 0, sizeof(*m));
	m->answer = answer;
	m->open_trial = -1;
	m->uniform = 0.5;
	m->now = 100 * QST_NS_PER_S;
}

/* ------------------------------------------------------------ answerers */

static double detects_at_threshold(struct mock_rig *m,
				   const struct qst_question *q)
{
	return q->stimulus_value >= m->threshold_mn ? 1.0 : 0.0;
}

static double always_yes(struct mock_rig *m, const struct qst_question *q)
{
	(void)m;
	(void)q;
	return 1.0;
}

static double always_no(struct mock_rig *m, const struct qst_question *q)
{
	(void)m;
	(void)q;
	return 0.0;
}

static double yes_is_two(struct mock_rig *m, const struct qst_question *q)
{
	(void)m;
	(void)q;
	return 2.0;
}

/* Ratings that name the stimulus: pinprick force / 8, light touch 1..3;
 * WUR single 10, train 30; fork 7.5; sham "no". */
static double by_stimulus(struct mock_rig *m, const struct qst_question *q)
{
	(void)m;
	switch (q->stimulus) {
	case QST_STIM_PINPRICK:
		return q->test == QST_WUR ? 10.0 : q->stimulus_value / 8.0;
	case QST_STIM_PINPRICK_TRAIN:
		return 30.0;
	case QST_STIM_COTTON_WISP:
		return 1.0;
	case QST_STIM_QTIP:
		return 2.0;
	case QST_STIM_BRUSH:
		return 3.0;
	case QST_STIM_TUNING_FORK:
		return 7.5;
	default:
		return 0.0;
	}
}

static double sham_felt(struct mock_rig *m, const struct qst_question *q)
{
	return q->stimulus == QST_STIM_SHAM_FORK ? 1.0 : by_stimulus(m, q);
}

/* -------------------------------------------------------------- helpers */

static struct qst_series_params series_params(int test, int rule)
{
	struct qst_series_params p = {
		.test = test, .series_pairs = 5, .start_mn = 16.0,
		.out_of_range = rule,
	};
	snprintf(p.site_text, sizeof(p.site_text), "dorsum of hand");
	return p;
}

/* The analysis result of the rows the mock recorded. */
static struct qst_result analyze(const struct mock_rig *m, int param)
{
	struct qst_trial_view v[MAX_ROWS];
	for (int i = 0; i < m->n_rows; i++) {
		const struct qst_trial_record *t = &m->rows[i];
		v[i] = (struct qst_trial_view){
			.test = t->test, .repetition = t->repetition,
			.direction = t->direction, .value = t->value_measured,
			.baseline = t->baseline_c, .quality = t->quality,
			.flags = (unsigned)t->flags,
		};
	}
	struct qst_subject s = { .sex = 'F', .age_years = 30, .site = "hand" };
	struct qst_result out[QST_PARAM_COUNT];
	assert_int_equal(qst_analyze_trials(v, (size_t)m->n_rows, &s, NULL,
					    out),
			 QST_OK);
	return out[param];
}

static void assert_rows(const struct mock_rig *m, const double *want,
			int n)
{
	assert_int_equal(m->n_rows, n);
	for (int i = 0; i < n; i++) {
		if (m->rows[i].value_measured != want[i])
			fail_msg("row %d: %g mN, expected %g", i,
				 m->rows[i].value_measured, want[i]);
		assert_int_equal(m->rows[i].repetition, i + 1);
		assert_int_equal(m->rows[i].direction, i % 2 ? +1 : -1);
	}
}

/* --------------------------------------------------------------- series */

/* Detects iff ≥ 4 mN: sub 2, supra 4 alternating → geometric mean 2.828. */
static void test_mdt_threshold(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, detects_at_threshold);
	m.threshold_mn = 4.0;
	struct qst_series_params p = series_params(QST_MDT, QST_OOR_NEXT_LEVEL);
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_OK);
	const double want[] = { 2, 4, 2, 4, 2, 4, 2, 4, 2, 4 };
	assert_rows(&m, want, 10);
	/* first series 16, 8, 4, 2; then one stimulus per series */
	const double asked[] = { 16, 8, 4, 2, 4, 2, 4 };
	for (int i = 0; i < 7; i++)
		assert_true(m.asks[i].value == asked[i]);
	assert_int_equal(m.n_asks, 13);
	for (int i = 0; i < m.n_asks; i++) {
		assert_int_equal(m.asks[i].kind, QST_ANSWER_YESNO);
		assert_int_equal(m.asks[i].stimulus, QST_STIM_VONFREY);
		assert_int_equal(m.asks[i].test, QST_MDT);
	}
	assert_non_null(strstr(m.asks[0].text, "16 mN at dorsum of hand"));
	for (int i = 0; i < 10; i++) {
		assert_int_equal(m.rows[i].test, QST_MDT);
		assert_int_equal(m.rows[i].flags, 0);
		assert_true(m.rows[i].value_commanded ==
			    m.rows[i].value_measured);
		assert_true(m.rows[i].t_response_ns > m.rows[i].t_onset_ns);
		assert_true(isnan(m.rows[i].baseline_c));
		assert_int_equal(m.rows[i].key, -1);
	}
	struct qst_result r = analyze(&m, QST_MDT);
	assert_int_equal(r.n, 10);
	assert_true(fabs(r.value_raw - sqrt(8.0)) < 1e-9);
	assert_false(r.flags & QST_RES_BOUNDED_VALUE);
	assert_false(r.flags & QST_RES_FEW_TRIALS);
}

/* MPT: sharp iff ≥ 64 mN, pinprick set 8..512, sharp/blunt answers. */
static void test_mpt_threshold(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, detects_at_threshold);
	m.threshold_mn = 64.0;
	struct qst_series_params p = series_params(QST_MPT, QST_OOR_NEXT_LEVEL);
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_OK);
	/* 16 blunt at once; then 32, 64 sharp; then 32 blunt; 64 sharp ... */
	const double want[] = { 16, 64, 32, 64, 32, 64, 32, 64, 32, 64 };
	assert_rows(&m, want, 10);
	assert_int_equal(m.asks[0].kind, QST_ANSWER_SHARP_BLUNT);
	assert_int_equal(m.asks[0].stimulus, QST_STIM_PINPRICK);
	assert_int_equal(m.rows[0].test, QST_MPT);
}

/* 0.25 mN still felt: flagged, 0.125 (next level) or 0.25 (clamp). */
static void test_out_of_range_low(void **state)
{
	(void)state;
	const int rules[2] = { QST_OOR_NEXT_LEVEL, QST_OOR_CLAMP };
	const double assigned[2] = { 0.125, 0.25 };
	for (int k = 0; k < 2; k++) {
		struct mock_rig m;
		mock_init(&m, always_yes);
		struct qst_series_params p = series_params(QST_MDT, rules[k]);
		assert_int_equal(qst_method_series(&ops, &m, &p), QST_OK);
		assert_int_equal(m.n_rows, 10);
		for (int i = 0; i < 10; i++) {
			const struct qst_trial_record *t = &m.rows[i];
			bool descending = i % 2 == 0;
			assert_true(t->value_measured ==
				    (descending ? assigned[k] : 0.25));
			assert_true(t->value_commanded == 0.25);
			assert_int_equal(t->flags & QST_TRIAL_OUT_OF_RANGE,
					 descending ? QST_TRIAL_OUT_OF_RANGE : 0);
		}
		/* 16 down to 0.25 = 7 stimuli, then one per series */
		assert_int_equal(m.n_asks, 7 + 9);
		struct qst_result r = analyze(&m, QST_MDT);
		assert_true(r.flags & QST_RES_BOUNDED_VALUE);
		assert_true(fabs(r.value_raw -
				 sqrt(assigned[k] * 0.25)) < 1e-12);
	}
}

/* 512 mN never felt: flagged, 1024 (next level) or 512 (clamp). */
static void test_out_of_range_high(void **state)
{
	(void)state;
	const int rules[2] = { QST_OOR_NEXT_LEVEL, QST_OOR_CLAMP };
	const double assigned[2] = { 1024.0, 512.0 };
	for (int k = 0; k < 2; k++) {
		struct mock_rig m;
		mock_init(&m, always_no);
		struct qst_series_params p = series_params(QST_MPT, rules[k]);
		assert_int_equal(qst_method_series(&ops, &m, &p), QST_OK);
		assert_int_equal(m.n_rows, 10);
		assert_true(m.rows[0].value_measured == 16.0);
		assert_int_equal(m.rows[0].flags, 0);
		for (int i = 1; i < 10; i++) {
			const struct qst_trial_record *t = &m.rows[i];
			bool ascending = i % 2 == 1;
			assert_true(t->value_measured ==
				    (ascending ? assigned[k] : 512.0));
			assert_int_equal(t->flags & QST_TRIAL_OUT_OF_RANGE,
					 ascending ? QST_TRIAL_OUT_OF_RANGE : 0);
		}
		assert_true(m.rows[1].value_commanded == 512.0);
		assert_true(analyze(&m, QST_MPT).flags & QST_RES_BOUNDED_VALUE);
	}
}

static void test_series_bad_params(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, always_yes);
	struct qst_series_params p = series_params(QST_MDT, QST_OOR_CLAMP);
	p.start_mn = 15.0; /* not a von Frey level */
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_ERR_ARG);
	p = series_params(QST_MPT, QST_OOR_CLAMP);
	p.start_mn = 4.0; /* von Frey, not pinprick */
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_ERR_ARG);
	p = series_params(QST_CDT, QST_OOR_CLAMP);
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_ERR_ARG);
	p = series_params(QST_MDT, 7);
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_ERR_ARG);
	p = series_params(QST_MDT, QST_OOR_CLAMP);
	p.series_pairs = 0;
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_ERR_ARG);
	assert_int_equal(m.n_asks, 0);
	assert_int_equal(m.n_rows, 0);
}

/* An answer that does not fit the question is never data. */
static void test_answer_out_of_kind(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, yes_is_two);
	struct qst_series_params p = series_params(QST_MDT, QST_OOR_CLAMP);
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_ERR_DATA);
	assert_int_equal(m.n_rows, 0);
}

/* ------------------------------------------------------------------ SRF */

static int stimulus_index(int stimulus, double mn)
{
	if (stimulus == QST_STIM_PINPRICK)
		return (int)lround(log2(mn / 8.0));
	return 7 + (stimulus - QST_STIM_COTTON_WISP);
}

static void run_srf(struct mock_rig *m, uint64_t seed)
{
	mock_init(m, by_stimulus);
	struct qst_srf_params p = { .runs = 5 };
	assert_int_equal(qst_method_srf(&ops, m, &p, seed), QST_OK);
}

static void test_srf_balanced(void **state)
{
	(void)state;
	struct mock_rig m;
	run_srf(&m, 42);
	assert_int_equal(m.n_asks, 50);
	assert_int_equal(m.n_rows, 50);
	int mps = 0, dma = 0;
	for (int run = 0; run < 5; run++) {
		int seen[10] = { 0 };
		for (int i = 0; i < 10; i++) {
			int k = run * 10 + i;
			assert_int_equal(m.asks[k].kind, QST_ANSWER_RATING);
			seen[stimulus_index(m.asks[k].stimulus,
					    m.asks[k].value)]++;
			const struct qst_trial_record *t = &m.rows[k];
			assert_int_equal(t->repetition, run + 1);
			bool pin = m.asks[k].stimulus == QST_STIM_PINPRICK;
			assert_int_equal(t->test, pin ? QST_MPS : QST_DMA);
			mps += pin;
			dma += !pin;
			assert_true(t->value_measured ==
				    by_stimulus(&m, &(struct qst_question){
					    .test = t->test,
					    .stimulus = m.asks[k].stimulus,
					    .stimulus_value = m.asks[k].value }));
			if (pin)
				assert_true(t->value_commanded == m.asks[k].value);
			else
				assert_true(isnan(t->value_commanded));
			/* never the same stimulus twice in a row */
			if (k > 0)
				assert_int_not_equal(
					stimulus_index(m.asks[k].stimulus,
						       m.asks[k].value),
					stimulus_index(m.asks[k - 1].stimulus,
						       m.asks[k - 1].value));
		}
		for (int s = 0; s < 10; s++)
			assert_int_equal(seen[s], 1);
	}
	assert_int_equal(mps, 35);
	assert_int_equal(dma, 15);
	/* the order of every run is recorded, with the seed */
	int orders = 0;
	for (int i = 0; i < m.n_events; i++)
		if (m.events[i].code == QST_EVC_LOG &&
		    strstr(m.events[i].message, "order (seed 42):"))
			orders++;
	assert_int_equal(orders, 5);
	struct qst_result r = analyze(&m, QST_MPS);
	assert_int_equal(r.n, 35);
	assert_int_equal(analyze(&m, QST_DMA).n, 15);
}

static bool same_order(const struct mock_rig *a, const struct mock_rig *b)
{
	for (int i = 0; i < a->n_asks; i++)
		if (a->asks[i].stimulus != b->asks[i].stimulus ||
		    !(a->asks[i].value == b->asks[i].value ||
		      (isnan(a->asks[i].value) && isnan(b->asks[i].value))))
			return false;
	return true;
}

static void test_srf_seeded(void **state)
{
	(void)state;
	static struct mock_rig a, b, c;
	run_srf(&a, 42);
	run_srf(&b, 42);
	run_srf(&c, 43);
	assert_true(same_order(&a, &b));
	assert_false(same_order(&a, &c));
	/* and the runs of one session differ from each other */
	bool runs_differ = false;
	for (int i = 0; i < 10; i++)
		if (a.asks[i].stimulus != a.asks[10 + i].stimulus ||
		    !(a.asks[i].value == a.asks[10 + i].value ||
		      isnan(a.asks[i].value)))
			runs_differ = true;
	assert_true(runs_differ);
}

/* ------------------------------------------------------------------ WUR */

static void test_wur_schedule(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, by_stimulus);
	struct qst_wur_params p = { .repetitions = 5, .force_mn = 256,
				    .train_length = 10, .train_hz = 1.0 };
	assert_int_equal(qst_method_wur(&ops, &m, &p), QST_OK);
	assert_int_equal(m.n_rows, 10);
	for (int i = 0; i < 10; i++) {
		const struct qst_trial_record *t = &m.rows[i];
		assert_int_equal(t->test, QST_WUR);
		assert_int_equal(t->repetition, i / 2 + 1);
		assert_int_equal(t->direction, i % 2 ? +1 : -1);
		assert_true(t->value_measured == (i % 2 ? 30.0 : 10.0));
		assert_true(t->value_commanded == 256.0);
	}
	assert_int_equal(m.asks[0].stimulus, QST_STIM_PINPRICK);
	assert_int_equal(m.asks[1].stimulus, QST_STIM_PINPRICK_TRAIN);
	assert_true(m.asks[1].value == 256.0);
	/* per train: one announcement, then 10 cues exactly 1 s apart */
	assert_int_equal(m.n_cues, 5 * 11);
	for (int rep = 0; rep < 5; rep++) {
		int first = rep * 11;
		assert_non_null(strstr(m.cue_text[first], "train of 10"));
		for (int k = 1; k <= 10; k++) {
			int64_t gap = m.cue_ns[first + k] - m.cue_ns[first + k - 1];
			assert_true(gap == QST_NS_PER_S);
			char want[32];
			snprintf(want, sizeof(want), "apply pinprick %d/10", k);
			assert_string_equal(m.cue_text[first + k], want);
		}
		/* the row's onset is the first pinprick cue */
		assert_true(m.rows[2 * rep + 1].t_onset_ns == m.cue_ns[first + 1]);
	}
	struct qst_result r = analyze(&m, QST_WUR);
	assert_true(fabs(r.value_raw - 3.0) < 1e-12);
	assert_false(r.flags & QST_RES_FEW_TRIALS);
}

static void test_wur_rate(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, by_stimulus);
	struct qst_wur_params p = { .repetitions = 1, .force_mn = 128,
				    .train_length = 4, .train_hz = 2.0 };
	assert_int_equal(qst_method_wur(&ops, &m, &p), QST_OK);
	assert_int_equal(m.n_cues, 5);
	for (int k = 2; k < 5; k++)
		assert_true(m.cue_ns[k] - m.cue_ns[k - 1] == QST_NS_PER_S / 2);
	p.train_hz = 0;
	assert_int_equal(qst_method_wur(&ops, &m, &p), QST_ERR_ARG);
}

/* ------------------------------------------------------------------ VDT */

static void test_vdt_readings_and_sham(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, by_stimulus);
	m.uniform = 0.5; /* sham at slot 2 of 0..3: after two readings */
	struct qst_vdt_params p = { .readings = 3, .sham = true };
	assert_int_equal(qst_method_vdt(&ops, &m, &p), QST_OK);
	assert_int_equal(m.n_asks, 4);
	assert_int_equal(m.asks[2].stimulus, QST_STIM_SHAM_FORK);
	assert_int_equal(m.asks[2].kind, QST_ANSWER_YESNO);
	assert_int_equal(m.asks[0].kind, QST_ANSWER_EIGHTHS);
	assert_int_equal(m.n_rows, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(m.rows[i].test, QST_VDT);
		assert_int_equal(m.rows[i].repetition, i + 1);
		assert_true(m.rows[i].value_measured == 7.5);
		assert_int_equal(m.rows[i].flags, 0);
	}
	struct qst_result r = analyze(&m, QST_VDT);
	assert_true(r.value_raw == 7.5);
	assert_false(r.flags & QST_RES_RESPONSE_SUSPECT);

	/* no sham asked when switched off; 0.999 puts it after the last */
	mock_init(&m, by_stimulus);
	p.sham = false;
	assert_int_equal(qst_method_vdt(&ops, &m, &p), QST_OK);
	assert_int_equal(m.n_asks, 3);
	mock_init(&m, by_stimulus);
	m.uniform = 0.999;
	p.sham = true;
	assert_int_equal(qst_method_vdt(&ops, &m, &p), QST_OK);
	assert_int_equal(m.asks[3].stimulus, QST_STIM_SHAM_FORK);
}

/* A felt sham flags every reading, also those before it. */
static void test_vdt_sham_felt(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, sham_felt);
	m.uniform = 0.5;
	struct qst_vdt_params p = { .readings = 3, .sham = true };
	assert_int_equal(qst_method_vdt(&ops, &m, &p), QST_OK);
	assert_int_equal(m.n_rows, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(m.rows[i].flags, QST_TRIAL_RESPONSE_SUSPECT);
	bool recorded = false;
	for (int i = 0; i < m.n_events; i++)
		recorded |= strstr(m.events[i].message, "sham fork felt") != NULL;
	assert_true(recorded);
	assert_true(analyze(&m, QST_VDT).flags & QST_RES_RESPONSE_SUSPECT);
}

/* ------------------------------------------------------------- not done */

static void test_not_done_series(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, detects_at_threshold);
	m.threshold_mn = 4.0;
	m.not_done_at = 5; /* first stimulus of series 2 */
	struct qst_series_params p = series_params(QST_MDT, QST_OOR_CLAMP);
	assert_int_equal(qst_method_series(&ops, &m, &p), QST_METHOD_NOT_DONE);
	assert_int_equal(m.n_asks, 5);
	assert_int_equal(m.n_rows, 2);
	assert_true(m.rows[0].value_measured == 2.0);
	assert_int_equal(m.rows[0].flags, 0);
	assert_int_equal(m.rows[1].flags, QST_TRIAL_ABORTED);
	assert_true(isnan(m.rows[1].value_measured));
	assert_int_equal(m.open_trial, -1);
	assert_int_equal(analyze(&m, QST_MDT).n, 1);
}

static void test_not_done_others(void **state)
{
	(void)state;
	struct mock_rig m;
	mock_init(&m, by_stimulus);
	m.not_done_at = 3;
	struct qst_srf_params srf = { .runs = 5 };
	assert_int_equal(qst_method_srf(&ops, &m, &srf, 1), QST_METHOD_NOT_DONE);
	assert_int_equal(m.n_rows, 3);
	assert_int_equal(m.rows[2].flags, QST_TRIAL_ABORTED);

	mock_init(&m, by_stimulus);
	m.not_done_at = 2; /* the train rating */
	struct qst_wur_params wur = { .repetitions = 5, .force_mn = 256,
				      .train_length = 10, .train_hz = 1.0 };
	assert_int_equal(qst_method_wur(&ops, &m, &wur), QST_METHOD_NOT_DONE);
	assert_int_equal(m.n_rows, 2);
	assert_int_equal(m.rows[0].flags, 0);
	assert_int_equal(m.rows[1].flags, QST_TRIAL_ABORTED);
	assert_int_equal(m.rows[1].direction, +1);

	/* VDT: the readings before the skip are kept */
	mock_init(&m, by_stimulus);
	m.uniform = 0.999;
	m.not_done_at = 3;
	struct qst_vdt_params vdt = { .readings = 3, .sham = true };
	assert_int_equal(qst_method_vdt(&ops, &m, &vdt), QST_METHOD_NOT_DONE);
	assert_int_equal(m.n_rows, 2);
	assert_int_equal(m.rows[1].flags, 0);
}

int main(void)
{
	qst_log_set_level(QST_LOG_NONE);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mdt_threshold),
		cmocka_unit_test(test_mpt_threshold),
		cmocka_unit_test(test_out_of_range_low),
		cmocka_unit_test(test_out_of_range_high),
		cmocka_unit_test(test_series_bad_params),
		cmocka_unit_test(test_answer_out_of_kind),
		cmocka_unit_test(test_srf_balanced),
		cmocka_unit_test(test_srf_seeded),
		cmocka_unit_test(test_wur_schedule),
		cmocka_unit_test(test_wur_rate),
		cmocka_unit_test(test_vdt_readings_and_sham),
		cmocka_unit_test(test_vdt_sham_felt),
		cmocka_unit_test(test_not_done_series),
		cmocka_unit_test(test_not_done_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
