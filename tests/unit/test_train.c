/*
 * Issue 6 above the driver: the Lua calls qst.pulse_train{} and
 * qst.waveform{} (arguments as the host receives them), the supervisor's
 * waveform rules and dose, and the pulse-train method against a mock rig
 * on a fake clock (schedule, lateness, ratings, stopping on a refusal).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qst_methods.h"
#include "qst_protocol.h"
#include "qst_supervisor.h"

/* ------------------------------------------------------------- engine */

struct host {
	int trains, waves;
	struct qst_pulse_train_params train;
	struct qst_waveform_params wave;
};

static int h_declare(void *user, const struct qst_protocol_decl *d, char *e,
		     size_t n)
{
	(void)user, (void)d, (void)e, (void)n;
	return QST_OK;
}

static int h_train(void *user, const struct qst_pulse_train_params *p,
		   char *e, size_t n)
{
	(void)e, (void)n;
	struct host *h = user;
	h->train = *p;
	h->trains++;
	return QST_OK;
}

static int h_wave(void *user, const struct qst_waveform_params *p, char *e,
		  size_t n)
{
	(void)e, (void)n;
	struct host *h = user;
	h->wave = *p;
	h->waves++;
	return QST_OK;
}

/* The run gives peak_c = 46.5 and nothing else. */
static int h_option(void *user, const char *key, double *value)
{
	(void)user;
	if (strcmp(key, "peak_c") != 0)
		return 0;
	*value = 46.5;
	return 1;
}

static const struct qst_script_host host_ops = {
	.declare = h_declare, .pulse_train = h_train, .waveform = h_wave,
	.option = h_option,
};

static char err[1024];

static int run(struct host *h, const char *body)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "qst.protocol{ name = 't', devices = { 'thermal' } }\n%s", body);
	struct qst_script_limits lim = { QST_SCRIPT_DEFAULT_MEMORY,
					 QST_SCRIPT_DEFAULT_INSTRUCTIONS };
	memset(h, 0, sizeof(*h));
	err[0] = '\0';
	return qst_script_run(text, strlen(text), "t.lua", &lim, &host_ops, h, err,
			      sizeof(err));
}

static void test_lua_pulse_train(void **state)
{
	(void)state;
	struct host h;
	assert_int_equal(run(&h, "qst.pulse_train{ peak = 47.5 }"), QST_OK);
	assert_int_equal(h.trains, 1);
	assert_true(h.train.peak_c == 47.5 && h.train.baseline_c == 40.0);
	assert_int_equal(h.train.pulses, 10);
	assert_true(h.train.frequency_hz == 0.4 && h.train.hold_s == 0.5);
	for (int k = 0; k < QST_TRAIN_MAX_PULSES; k++)
		assert_false(h.train.rate[k]);
	assert_int_equal(run(&h, "qst.pulse_train{ peak = 44, n = 5, frequency = "
			     "1, hold = 0.2, rate_after = { 1, 5 } }"), QST_OK);
	assert_int_equal(h.train.pulses, 5);
	assert_true(h.train.rate[0] && h.train.rate[4] && !h.train.rate[1]);
	assert_int_equal(run(&h, "qst.pulse_train{ peak = 44, n = 3, frequency = "
			     "1, hold = 0.2, rate_after = 'each' }"), QST_OK);
	assert_true(h.train.rate[0] && h.train.rate[1] && h.train.rate[2]);
	assert_false(h.train.rate[3]);
	/* refusals before the host is asked */
	assert_int_equal(run(&h, "qst.pulse_train{ n = 3 }"), QST_ERR_SCRIPT);
	assert_non_null(strstr(err, "peak (degC) is required"));
	assert_int_equal(run(&h, "qst.pulse_train{ peak = 48, frequency = 1 }"),
			 QST_ERR_SCRIPT);
	assert_non_null(strstr(err, "longer than the 1.00 s period"));
	assert_int_equal(run(&h, "qst.pulse_train{ peak = 48, rate_after = { 11 } }"),
			 QST_ERR_SCRIPT);
	assert_non_null(strstr(err, "rate_after[1] must be a pulse number 1..10"));
	assert_int_equal(run(&h, "qst.pulse_train{ peak = 48, rate_after = 'some' }"),
			 QST_ERR_SCRIPT);
	assert_int_equal(run(&h, "qst.pulse_train{ peak = 48, speed = 3 }"),
			 QST_ERR_SCRIPT);
	assert_non_null(strstr(err, "unknown key 'speed'"));
	assert_int_equal(h.trains, 0);
}

static void test_lua_waveform(void **state)
{
	(void)state;
	struct host h;
	assert_int_equal(run(&h, "qst.waveform{ { to = 45, rate = 5 }, { to = 45, "
			     "duration = 2 }, return_rate = 3 }"), QST_OK);
	assert_int_equal(h.waves, 1);
	assert_int_equal(h.wave.n, 2);
	assert_true(h.wave.seg[0].to_c == 45 && h.wave.seg[0].rate_c_s == 5);
	assert_true(isnan(h.wave.seg[0].duration_s));
	assert_true(isnan(h.wave.seg[1].rate_c_s) && h.wave.seg[1].duration_s == 2);
	assert_true(h.wave.return_rate_c_s == 3);
	assert_int_equal(run(&h, "qst.waveform{ { to = 45, rate = 5 } }"), QST_OK);
	assert_true(h.wave.return_rate_c_s == 5); /* the default */
	assert_int_equal(run(&h, "qst.waveform{ { to = 45, rate = 5, duration = 1 } }"),
			 QST_ERR_SCRIPT);
	assert_non_null(strstr(err, "segment 1: give either rate or duration"));
	assert_int_equal(run(&h, "qst.waveform{ { to = 45, rate = 5 }, { to = 40 } }"),
			 QST_ERR_SCRIPT);
	assert_non_null(strstr(err, "segment 2: give either rate or duration"));
	assert_int_equal(run(&h, "qst.waveform{ { rate = 5 } }"), QST_ERR_SCRIPT);
	assert_int_equal(run(&h, "qst.waveform{}"), QST_ERR_SCRIPT);
	assert_int_equal(run(&h, "qst.waveform{ { to = 45, rate = 5 }, speed = 2 }"),
			 QST_ERR_SCRIPT);
	assert_int_equal(run(&h, "qst.waveform{ { to = 45, duration = -1 } }"),
			 QST_ERR_SCRIPT);
	assert_int_equal(h.waves, 0);
}

static void test_lua_option(void **state)
{
	(void)state;
	struct host h;
	assert_int_equal(run(&h, "qst.pulse_train{ peak = qst.option('peak_c', 48) }"),
			 QST_OK);
	assert_true(h.train.peak_c == 46.5);
	assert_int_equal(run(&h, "qst.pulse_train{ peak = qst.option('other', 47) }"),
			 QST_OK);
	assert_true(h.train.peak_c == 47.0);
	assert_int_equal(run(&h, "qst.option('Peak', 1)"), QST_ERR_SCRIPT);
	assert_non_null(strstr(err, "lower-case letters"));
	assert_int_equal(run(&h, "qst.option('peak_c')"), QST_ERR_SCRIPT);
	assert_non_null(strstr(err, "the default must be a number"));
}

/* --------------------------------------------------------- supervisor */

static void test_supervisor_waveform(void **state)
{
	(void)state;
	struct qst_thermal_limits lim;
	qst_thermal_limits_default(&lim); /* 0..50 °C, 10 °C/s, 30 s at >= 48 */
	char why[256];
	struct qst_wave_segment ok[] = { { 48.0, 0.8 }, { 48.0, 0.5 }, { 40.0, 0.8 } };
	assert_int_equal(qst_supervisor_check_waveform(&lim, 40.0, ok, 3, 10.0, why,
						       sizeof(why)), QST_OK);
	struct qst_wave_segment steep[] = { { 45.0, 1.0 }, { 48.0, 0.2 } };
	assert_int_equal(qst_supervisor_check_waveform(&lim, 40.0, steep, 2, 5.0, why,
						       sizeof(why)), QST_ERR_LIMIT);
	assert_non_null(strstr(why, "segment 2"));
	assert_non_null(strstr(why, "15.00 degC/s, above the 10.0 degC/s ceiling"));
	struct qst_wave_segment hot[] = { { 45.0, 1.0 }, { 50.5, 2.0 } };
	assert_int_equal(qst_supervisor_check_waveform(&lim, 40.0, hot, 2, 5.0, why,
						       sizeof(why)), QST_ERR_LIMIT);
	assert_non_null(strstr(why, "segment 2: 50.5 degC is above the station maximum"));
	struct qst_wave_segment cold[] = { { -1.0, 10.0 } };
	assert_int_equal(qst_supervisor_check_waveform(&lim, 5.0, cold, 1, 5.0, why,
						       sizeof(why)), QST_ERR_LIMIT);
	assert_non_null(strstr(why, "below the station minimum"));
	/* Holds at >= 48 °C add up across segments: 20 + 15 s > 30 s. */
	struct qst_wave_segment hold[] = { { 48.0, 1.0 }, { 49.0, 20.0 },
					   { 48.0, 15.0 } };
	assert_int_equal(qst_supervisor_check_waveform(&lim, 40.0, hold, 3, 5.0, why,
						       sizeof(why)), QST_ERR_LIMIT);
	assert_non_null(strstr(why, "segment 3: 35.0 s at or above 48.0 degC"));
	hold[2].to_c = 47.0; /* the last one leaves the hot range */
	assert_int_equal(qst_supervisor_check_waveform(&lim, 40.0, hold, 3, 5.0, why,
						       sizeof(why)), QST_OK);
	assert_int_equal(qst_supervisor_check_waveform(&lim, 40.0, ok, 3, 10.5, why,
						       sizeof(why)), QST_ERR_LIMIT);
	assert_int_equal(qst_supervisor_check_waveform(&lim, NAN, ok, 3, 5.0, why,
						       sizeof(why)), QST_ERR_LIMIT);
	assert_int_equal(qst_supervisor_check_waveform(&lim, 40.0, ok, 0, 5.0, why,
						       sizeof(why)), QST_ERR_LIMIT);
	struct qst_wave_segment zero[] = { { 45.0, 0.0 } };
	assert_int_equal(qst_supervisor_check_waveform(&lim, 40.0, zero, 1, 5.0, why,
						       sizeof(why)), QST_ERR_LIMIT);
}

static void test_dose_waveform(void **state)
{
	(void)state;
	/* 40 → 48 in 0.8 s (0.3 s above 45), 0.5 s hold, back at 10 °C/s
	 * to 40 (0.3 s above 45): 1.1 s. */
	struct qst_wave_segment seg[] = { { 48.0, 0.8 }, { 48.0, 0.5 } };
	assert_float_equal(qst_dose_waveform_s(45.0, 40.0, seg, 2, 10.0, 40.0), 1.1,
			   1e-9);
	struct qst_wave_segment cool[] = { { 44.0, 1.0 } };
	assert_float_equal(qst_dose_waveform_s(45.0, 40.0, cool, 1, 10.0, 40.0), 0.0,
			   1e-12);
	struct qst_thermal_limits lim;
	qst_thermal_limits_default(&lim);
	lim.dose_budget_s = 1.0;
	struct qst_dose_guard g;
	qst_dose_init(&g, &lim);
	char why[256];
	assert_int_equal(qst_dose_check_waveform(&g, 0, 40.0, seg, 2, 10.0, 40.0, why,
						 sizeof(why)), QST_ERR_LIMIT);
	assert_non_null(strstr(why, "for this waveform"));
	lim.dose_budget_s = 1.2;
	qst_dose_init(&g, &lim);
	assert_int_equal(qst_dose_check_waveform(&g, 0, 40.0, seg, 2, 10.0, 40.0, why,
						 sizeof(why)), QST_OK);
}

/* ------------------------------------------------- method, mock rig */

#define MAX_LOG 64

struct rig {
	int64_t now;
	int64_t late_ns[16];    /* how late pace() returns, per call */
	int paces, ramps, asks, refuse_at;
	double baseline;
	int64_t due[16];
	struct logged { int code; double v, v2; int64_t t; } ev[MAX_LOG];
	int n_ev;
};

static int64_t r_now(void *rig) { return ((struct rig *)rig)->now; }

static int r_pace(void *rig, int64_t due_ns, struct qst_press *press)
{
	(void)press;
	struct rig *r = rig;
	int i = r->paces++;
	if (i < 16)
		r->due[i] = due_ns;
	r->now = due_ns + (i < 16 ? r->late_ns[i] : 0);
	return 0;
}

static int r_ramp(void *rig, double target, double rate, double hold, double back)
{
	(void)rate, (void)hold, (void)back;
	struct rig *r = rig;
	assert_true(target == 46.0);
	if (++r->ramps == r->refuse_at)
		return QST_ERR_LIMIT;
	r->now += 1000; /* the command takes a microsecond */
	return QST_OK;
}

static int r_baseline(void *rig, double c)
{
	((struct rig *)rig)->baseline = c;
	return QST_OK;
}

static int r_ask_by(void *rig, const struct qst_question *q, struct qst_answer *a,
		    int64_t deadline)
{
	struct rig *r = rig;
	assert_int_equal(q->stimulus, QST_STIM_NONE);
	assert_int_equal(q->kind, QST_ANSWER_RATING);
	assert_true(deadline > r->now);
	r->now = deadline;
	memset(a, 0, sizeof(*a));
	a->value = 10.0 * ++r->asks;
	return QST_OK;
}

static double r_measured(void *rig, int64_t t) { (void)rig, (void)t; return 45.9; }

static void r_event(void *rig, int code, double v, double v2, const char *m)
{
	(void)m;
	struct rig *r = rig;
	if (r->n_ev < MAX_LOG)
		r->ev[r->n_ev++] = (struct logged){ code, v, v2, r->now };
}

static const struct qst_rig_ops rig_ops = {
	.now = r_now, .pace = r_pace, .ramp = r_ramp, .set_baseline = r_baseline,
	.ask_by = r_ask_by, .measured_at = r_measured, .event = r_event,
};

static struct qst_pulse_train_params train_params(void)
{
	struct qst_pulse_train_params p = {
		.peak_c = 46.0, .baseline_c = 40.0, .pulses = 4, .frequency_hz = 0.5,
		.hold_s = 0.5, .rise_c_s = 10.0, .fall_c_s = 10.0,
	};
	p.rate[0] = p.rate[3] = true;
	return p;
}

static int count(const struct rig *r, int code)
{
	int n = 0;
	for (int i = 0; i < r->n_ev; i++)
		n += r->ev[i].code == code;
	return n;
}

static void test_method_schedule_and_records(void **state)
{
	(void)state;
	struct rig r = { .now = 5 * QST_NS_PER_S };
	r.late_ns[2] = 123456; /* the third pulse's pacer comes back late */
	struct qst_pulse_train_params p = train_params();
	assert_int_equal(qst_method_pulse_train(&rig_ops, &r, &p), QST_OK);
	assert_true(r.baseline == 40.0);
	assert_int_equal(r.ramps, 4);
	assert_int_equal(r.asks, 2);
	/* four pulses 2 s apart from one period after the start, then one
	 * wait for the last pulse's end */
	assert_int_equal(r.paces, 5);
	for (int k = 0; k < 4; k++)
		assert_int_equal(r.due[k], 7 * QST_NS_PER_S + k * 2 * QST_NS_PER_S);
	assert_int_equal(count(&r, QST_EVC_TRAIN_START), 1);
	assert_int_equal(count(&r, QST_EVC_PULSE), 4);
	assert_int_equal(count(&r, QST_EVC_RATING), 2);
	assert_int_equal(count(&r, QST_EVC_PULSE_PEAK), 4);
	int k = 0, rated = 0;
	for (int i = 0; i < r.n_ev; i++) {
		if (r.ev[i].code == QST_EVC_PULSE) {
			assert_true(r.ev[i].v == ++k);
			double want = k == 3 ? 123456e-9 : 0.0;
			assert_float_equal(r.ev[i].v2, want, 1e-12);
		} else if (r.ev[i].code == QST_EVC_RATING) {
			assert_true(r.ev[i].v == (rated ? 4 : 1));
			assert_true(r.ev[i].v2 == 10.0 * ++rated);
		} else if (r.ev[i].code == QST_EVC_PULSE_PEAK) {
			assert_true(r.ev[i].v2 == 45.9);
		}
	}
}

static void test_method_stops_on_refusal(void **state)
{
	(void)state;
	struct rig r = { .now = 0, .refuse_at = 2 };
	struct qst_pulse_train_params p = train_params();
	assert_int_equal(qst_method_pulse_train(&rig_ops, &r, &p), QST_ERR_LIMIT);
	assert_int_equal(r.ramps, 2);
	assert_int_equal(count(&r, QST_EVC_PULSE), 1);
	/* a pulse that outlasts its period is refused before anything */
	struct rig r2 = { 0 };
	p.frequency_hz = 1.0; /* 0.6 + 0.5 + 0.6 s > 1 s */
	assert_int_equal(qst_method_pulse_train(&rig_ops, &r2, &p), QST_ERR_ARG);
	assert_int_equal(r2.ramps + r2.paces, 0);
}

int main(void)
{
	qst_log_set_level(QST_LOG_NONE);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lua_pulse_train),
		cmocka_unit_test(test_lua_waveform),
		cmocka_unit_test(test_lua_option),
		cmocka_unit_test(test_supervisor_waveform),
		cmocka_unit_test(test_dose_waveform),
		cmocka_unit_test(test_method_schedule_and_records),
		cmocka_unit_test(test_method_stops_on_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
