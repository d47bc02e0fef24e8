/*
 * TCS II waveforms (`Uw`, `Ue`, devices.md §1.3): the bytes, the split of
 * long segments, the real driver uploading to the simulator over a pipe
 * and the simulator playing the shape on a virtual time loop.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../drivers/tcs2/protocol.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS
#define SEC QST_NS_PER_S

static void test_encode_wave(void **state)
{
	(void)state;
	char b[QST_TCS2_CMD_MAX];
	assert_int_equal(qst_tcs2_enc_wave_header(b, sizeof(b), 0x1f, 3), 10);
	assert_string_equal(b, "Uw11111003");
	assert_int_equal(qst_tcs2_enc_wave_header(b, sizeof(b), 0x05, 999), 10);
	assert_string_equal(b, "Uw10100999");
	struct qst_tcs2_wave_seg g = { 50, 480 };
	assert_int_equal(qst_tcs2_enc_wave_seg(b, sizeof(b), &g), 6);
	assert_string_equal(b, "050480");
	g = (struct qst_tcs2_wave_seg){ 1, 0 };
	assert_int_equal(qst_tcs2_enc_wave_seg(b, sizeof(b), &g), 6);
	assert_string_equal(b, "001000");
	assert_int_equal(qst_tcs2_enc_wave_enable(b, sizeof(b), 0x1f), 7);
	assert_string_equal(b, "Ue11111");
	assert_int_equal(qst_tcs2_enc_wave_enable(b, sizeof(b), 0), 7);
	assert_string_equal(b, "Ue00000");
	/* outside the documented ranges */
	assert_int_equal(qst_tcs2_enc_wave_header(b, sizeof(b), 0x1f, 1000),
			 QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_wave_header(b, sizeof(b), 0x20, 1),
			 QST_ERR_ARG);
	g = (struct qst_tcs2_wave_seg){ 0, 300 };
	assert_int_equal(qst_tcs2_enc_wave_seg(b, sizeof(b), &g), QST_ERR_ARG);
	g = (struct qst_tcs2_wave_seg){ 1000, 300 };
	assert_int_equal(qst_tcs2_enc_wave_seg(b, sizeof(b), &g), QST_ERR_ARG);
	g = (struct qst_tcs2_wave_seg){ 10, 601 };
	assert_int_equal(qst_tcs2_enc_wave_seg(b, sizeof(b), &g), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_wave_seg(b, 6, &g), QST_ERR_ARG);
}

static void test_plan_splits_and_rounds_up(void **state)
{
	(void)state;
	struct qst_wave_segment in[] = {
		{ 48.0, 0.5 },    /* 50 ticks */
		{ 48.0, 12.0 },   /* 1200 ticks: two pieces of 600 */
		{ 32.0, 0.004 },  /* under one tick: one tick, never faster */
		{ 42.0, 25.0 },   /* 2500 ticks: 833, 833, 834 along the line */
	};
	struct qst_tcs2_wave_seg out[16];
	int n = qst_tcs2_wave_plan(32.0, in, 4, out, 16);
	assert_int_equal(n, 7);
	assert_int_equal(out[0].ticks, 50);
	assert_int_equal(out[0].tenths_c, 480);
	assert_int_equal(out[1].ticks, 600);
	assert_int_equal(out[1].tenths_c, 480);
	assert_int_equal(out[2].ticks, 600);
	assert_int_equal(out[2].tenths_c, 480);
	assert_int_equal(out[3].ticks, 1);
	assert_int_equal(out[3].tenths_c, 320);
	assert_int_equal(out[4].ticks + out[5].ticks + out[6].ticks, 2500);
	assert_true(out[4].ticks <= QST_TCS2_WAVE_TICKS_MAX);
	/* 32 → 42 over 2500 ticks: a third of the way after the first piece */
	assert_in_range(out[4].tenths_c, 353, 354);
	assert_in_range(out[5].tenths_c, 386, 387);
	assert_int_equal(out[6].tenths_c, 420);
	/* refusals */
	struct qst_wave_segment bad[] = { { 61.0, 1.0 } };
	assert_int_equal(qst_tcs2_wave_plan(32.0, bad, 1, out, 16), QST_ERR_ARG);
	bad[0] = (struct qst_wave_segment){ 40.0, 0.0 };
	assert_int_equal(qst_tcs2_wave_plan(32.0, bad, 1, out, 16), QST_ERR_ARG);
	bad[0] = (struct qst_wave_segment){ 40.0, NAN };
	assert_int_equal(qst_tcs2_wave_plan(32.0, bad, 1, out, 16), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_wave_plan(32.0, in, 4, out, 5), QST_ERR_ARG);
}

/* ------------------------------------------------------ driver + simulator */

#define MAX_EVENTS 8192

struct rig {
	struct qst_transport *transport;
	int far_fd;
	struct qst_tcs2_sim *sim;
	struct qst_dev dev;
	struct qst_event *ev;
	size_t n_ev;
	int64_t now;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	if (r->n_ev < MAX_EVENTS)
		r->ev[r->n_ev++] = *ev;
}

static void rig_pump(struct rig *r, int64_t t)
{
	qst_tcs2_sim_step(r->sim, t);
	uint8_t buf[512];
	for (;;) {
		ssize_t n = qst_transport_read(r->transport, buf, sizeof(buf), NULL);
		assert_true(n >= 0);
		if (n == 0)
			break;
		r->dev.driver->receive(&r->dev, buf, (size_t)n, t);
	}
	r->now = t;
}

static void rig_run_until(struct rig *r, int64_t end)
{
	while (r->now < end) {
		int64_t t = qst_tcs2_sim_next_due(r->sim);
		if (t <= r->now)
			t = r->now + 1000;
		if (t > end)
			t = end;
		rig_pump(r, t);
	}
}

static const struct qst_thermal_ops *thermal(struct rig *r)
{
	return qst_dev_thermal(&r->dev);
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->ev = calloc(MAX_EVENTS, sizeof(*r->ev));
	assert_non_null(r->ev);
	assert_int_equal(qst_transport_pipe_open("tcs2-wave", &r->transport,
						 &r->far_fd), QST_OK);
	struct qst_tcs2_sim_config cfg = {
		.initial_c = 32.0, .max_heat_c_s = 70.0, .max_cool_c_s = 40.0,
		.lag_s = 0.05, .noise_sd_c = 0.02, .seed = 7,
	};
	assert_int_equal(qst_tcs2_sim_new(r->far_fd, &cfg, 0, &r->sim), QST_OK);
	r->dev.driver = qst_driver_find("tcs2");
	assert_non_null(r->dev.driver);
	r->dev.transport = r->transport;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	rig_pump(r, 0);
	assert_true(r->dev.driver->ready(&r->dev));
	assert_int_equal(thermal(r)->set_neutral(&r->dev, 32.0), QST_OK);
	assert_int_equal(thermal(r)->set_max(&r->dev, 50.0), QST_OK);
	rig_run_until(r, 2 * SEC);
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	r->dev.driver->close(&r->dev);
	qst_transport_close(r->transport);
	qst_tcs2_sim_free(r->sim);
	free(r->ev);
	free(r);
	return 0;
}

static double mean_zone(const struct qst_event *ev)
{
	double s = 0;
	for (int z = 0; z < QST_THERMODE_ZONES; z++)
		s += ev->u.temp.zone_c[z];
	return s / QST_THERMODE_ZONES;
}

/* The profile asked for: segments from `from`, then back at `back`. */
static double shape_c(const struct qst_wave_segment *seg, size_t n,
		      double from, double back, double neutral, double el)
{
	for (size_t i = 0; i < n; i++) {
		if (el < seg[i].duration_s)
			return from + (seg[i].to_c - from) * el / seg[i].duration_s;
		el -= seg[i].duration_s;
		from = seg[i].to_c;
	}
	double d = back * el;
	return from > neutral ? fmax(from - d, neutral) : fmin(from + d, neutral);
}

static void test_sim_plays_waveform(void **state)
{
	struct rig *r = *state;
	const struct qst_wave_segment seg[] = {
		{ 40.0, 1.0 },  /* up at 8 °C/s */
		{ 40.0, 0.5 },  /* hold */
		{ 36.0, 0.4 },  /* down at 10 °C/s */
		{ 44.0, 2.0 },  /* up at 4 °C/s */
	};
	r->n_ev = 0;
	int64_t t_l = r->now;
	assert_int_equal(thermal(r)->waveform(&r->dev, seg, 4, 5.0), QST_OK);
	rig_pump(r, t_l);
	assert_true(qst_tcs2_sim_stimulating(r->sim));
	rig_run_until(r, t_l + 10 * SEC);
	assert_false(qst_tcs2_sim_stimulating(r->sim));
	size_t n = 0;
	double peak = 0, worst = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_TEMPERATURE)
			continue;
		double el = qst_ns_to_s(e->t_ns - t_l);
		/* The plate lags 50 ms behind the setpoint: compare with
		 * where the setpoint was one lag earlier, at the steepest
		 * 10 °C/s that is 0.5 °C, plus noise and the corners. */
		double want = shape_c(seg, 4, 32.0, 5.0, 32.0, fmax(el - 0.05, 0));
		double off = fabs(mean_zone(e) - want);
		worst = fmax(worst, off);
		if (off > 0.6)
			fail_msg("at %.3f s read %.2f °C, shape %.2f °C", el,
				 mean_zone(e), want);
		peak = fmax(peak, mean_zone(e));
		n++;
	}
	/* 3.9 s profile + 2.4 s back at 10 ms, then 1 Hz */
	assert_in_range(n, 600, 650);
	assert_true(peak > 43.7 && peak < 44.3);
	assert_true(fabs(qst_tcs2_sim_plate_c(r->sim) - 32.0) < 0.01);
	print_message("worst deviation from the shape: %.2f °C\n", worst);
}

static bool far_end_empty(struct rig *r)
{
	uint8_t b;
	ssize_t n = recv(r->far_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_waveform_bytes_and_refusals(void **state)
{
	struct rig *r = *state;
	struct qst_dev *d = &r->dev;
	struct qst_wave_segment seg[] = { { 45.0, 0.5 }, { 45.0, 1.0 } };
	assert_true(far_end_empty(r));
	seg[1].to_c = 60.5;
	assert_int_equal(thermal(r)->waveform(d, seg, 2, 5.0), QST_ERR_ARG);
	seg[1].to_c = 45.0;
	assert_int_equal(thermal(r)->waveform(d, seg, 2, 0.0), QST_ERR_ARG);
	assert_int_equal(thermal(r)->waveform(d, seg, 0, 5.0), QST_ERR_ARG);
	assert_true(far_end_empty(r));
	assert_int_equal(thermal(r)->waveform(d, seg, 2, 5.0), QST_OK);
	char got[64] = { 0 };
	assert_int_equal(recv(r->far_fd, got, sizeof(got) - 1, MSG_DONTWAIT), 36);
	assert_string_equal(got, "Uw11111002050450100450R00050Ue11111L");
	/* A ramp afterwards switches the profile off first. */
	assert_int_equal(thermal(r)->ramp(d, 40.0, 5.0, 0.0, 5.0), QST_OK);
	memset(got, 0, sizeof(got));
	assert_true(recv(r->far_fd, got, sizeof(got) - 1, MSG_DONTWAIT) > 7);
	assert_memory_equal(got, "Ue00000C0400", 12);
}

/* An upload cut short: the next command is still read as one. */
static void test_sim_short_upload(void **state)
{
	struct rig *r = *state;
	static const char bytes[] = "Uw11111002050450N350E";
	assert_int_equal(qst_dev_send(&r->dev, bytes, sizeof(bytes) - 1), QST_OK);
	r->n_ev = 0;
	rig_pump(r, r->now);
	bool seen = false;
	for (size_t i = 0; i < r->n_ev; i++)
		if (r->ev[i].type == QST_EV_TEMPERATURE) {
			assert_true(fabs(r->ev[i].u.temp.neutral_c - 35.0) < 1e-9);
			seen = true;
		}
	assert_true(seen);
	/* ...and no half-uploaded profile is played by `L` */
	assert_int_equal(thermal(r)->ramp(&r->dev, 36.0, 5.0, 0.0, 5.0), QST_OK);
	rig_run_until(r, r->now + 3 * SEC);
	assert_false(qst_tcs2_sim_stimulating(r->sim));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_wave),
		cmocka_unit_test(test_plan_splits_and_rounds_up),
		cmocka_unit_test_setup_teardown(test_sim_plays_waveform,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_waveform_bytes_and_refusals,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_short_upload,
						rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
