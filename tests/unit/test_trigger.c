/*
 * TTL trigger boxes: the pulse scheduler and the input-port tracker on
 * their own, then the real drivers ("triggerbox", "mmbts") against the
 * simulated box over a pipe on a virtual clock: every code on the wire
 * followed by 0x00 at the poll its pulse ends, the SYNC events stamped
 * with those moments, sends during a held pulse queued rather than merged,
 * and what a lost link and a noisy input line do.
 */
#define _GNU_SOURCE /* posix_openpt, ptsname, cfmakeraw */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <termios.h>
#include <unistd.h>

#include "../../drivers/trigger/protocol.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS
#define LOW_NS (QST_TRIGGER_LOW_MIN_MS * MS)

/* ------------------------------------------------------------ scheduler */

static void expect_due(const struct qst_trigger_sched *s, int64_t t,
		       uint8_t code, int pulse_ms)
{
	struct qst_trigger_pulse p;
	if (!qst_trigger_sched_due_byte(s, t, &p))
		fail_msg("nothing due at %lld ns", (long long)t);
	assert_int_equal(p.code, code);
	assert_int_equal(p.pulse_ms, pulse_ms);
}

static void expect_nothing(const struct qst_trigger_sched *s, int64_t t)
{
	struct qst_trigger_pulse p;
	assert_false(qst_trigger_sched_due_byte(s, t, &p));
}

static void test_sched_refuses(void **state)
{
	(void)state;
	struct qst_trigger_sched s;
	qst_trigger_sched_init(&s);
	assert_int_equal(qst_trigger_sched_push(&s, 0, 10), QST_ERR_ARG);
	assert_int_equal(qst_trigger_sched_push(&s, 1, 0), QST_ERR_ARG);
	assert_int_equal(qst_trigger_sched_push(&s, 1, -5), QST_ERR_ARG);
	assert_int_equal(qst_trigger_sched_push(&s, 1,
						QST_TRIGGER_PULSE_MAX_MS + 1),
			 QST_ERR_ARG);
	assert_int_equal(qst_trigger_sched_next_due(&s), INT64_MAX);
	for (int i = 0; i < QST_TRIGGER_QUEUE_MAX; i++)
		assert_int_equal(qst_trigger_sched_push(&s, (uint8_t)(i + 1), 5),
				 QST_OK);
	assert_int_equal(qst_trigger_sched_push(&s, 200, 5), QST_ERR_STATE);
	assert_int_equal(qst_trigger_sched_pending(&s), QST_TRIGGER_QUEUE_MAX);
	/* Drained in order, each code held, then low, then the next. */
	int64_t t = 0;
	for (int i = 0; i < QST_TRIGGER_QUEUE_MAX; i++) {
		expect_due(&s, t, (uint8_t)(i + 1), 5);
		qst_trigger_sched_sent(&s, t);
		expect_nothing(&s, t + 5 * MS - 1);
		t += 5 * MS;
		expect_due(&s, t, 0, 0);
		qst_trigger_sched_sent(&s, t);
		t += LOW_NS;
	}
	assert_int_equal(qst_trigger_sched_pending(&s), 0);
	assert_int_equal(s.codes, QST_TRIGGER_QUEUE_MAX);
	assert_int_equal(s.resets, QST_TRIGGER_QUEUE_MAX);
}

static void test_sched_timing(void **state)
{
	(void)state;
	struct qst_trigger_sched s;
	qst_trigger_sched_init(&s);
	assert_int_equal(qst_trigger_sched_push(&s, 5, 10), QST_OK);
	assert_int_equal(qst_trigger_sched_push(&s, 5, 20), QST_OK);
	assert_int_equal(qst_trigger_sched_next_due(&s), INT64_MIN);
	expect_due(&s, 100 * MS, 5, 10);
	qst_trigger_sched_sent(&s, 100 * MS);
	assert_int_equal(qst_trigger_sched_next_due(&s), 110 * MS);
	expect_nothing(&s, 109 * MS);
	/* Polled late: the reset goes when asked, the low phase counts from it. */
	expect_due(&s, 113 * MS, 0, 0);
	qst_trigger_sched_sent(&s, 113 * MS);
	assert_int_equal(qst_trigger_sched_next_due(&s), 113 * MS + LOW_NS);
	expect_nothing(&s, 113 * MS + LOW_NS - 1);
	expect_due(&s, 113 * MS + LOW_NS, 5, 20);
	qst_trigger_sched_sent(&s, 113 * MS + LOW_NS);
	assert_int_equal(qst_trigger_sched_next_due(&s), 133 * MS + LOW_NS);
	expect_due(&s, 133 * MS + LOW_NS, 0, 0);
	qst_trigger_sched_sent(&s, 133 * MS + LOW_NS);
	assert_int_equal(qst_trigger_sched_next_due(&s), INT64_MAX);
	expect_nothing(&s, INT64_MAX);
	/* A code whose write failed leaves the queue and the line stays low;
	 * a reset whose write failed counts as done. */
	assert_int_equal(qst_trigger_sched_push(&s, 8, 10), QST_OK);
	assert_int_equal(qst_trigger_sched_push(&s, 9, 10), QST_OK);
	expect_due(&s, 200 * MS, 8, 10);
	qst_trigger_sched_failed(&s, 200 * MS);
	expect_due(&s, 200 * MS, 9, 10);
	qst_trigger_sched_sent(&s, 200 * MS);
	expect_due(&s, 210 * MS, 0, 0);
	qst_trigger_sched_failed(&s, 210 * MS);
	assert_int_equal(qst_trigger_sched_next_due(&s), INT64_MAX);
	assert_int_equal(s.failed, 2);
	assert_int_equal(s.codes, 3);
	assert_int_equal(s.resets, 2);
}

static void test_inputs(void **state)
{
	(void)state;
	struct qst_trigger_inputs in;
	qst_trigger_inputs_init(&in);
	const uint8_t b[] = { 0x00, 0x00, 0x01, 0x01, 0x03, 0x00 };
	const bool changed[] = { true, false, true, false, true, true };
	for (size_t i = 0; i < sizeof(b); i++)
		assert_int_equal(qst_trigger_inputs_take(&in, b[i]), changed[i]);
	assert_int_equal(in.bytes, 6);
	assert_int_equal(in.changes, 4);
	assert_int_equal(in.state, 0x00);
}

/* ------------------------------------------------------ driver + simulator */

struct rig {
	struct qst_transport *transport;
	struct qst_trigger_sim *sim;
	struct qst_dev dev;
	struct qst_event ev[128];
	size_t n_ev;
	uint64_t noise;
	int64_t now;
	int64_t driver_due;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	if (ev->type == QST_EV_LINK_NOISE)
		r->noise += ev->u.noise_bytes;
	if (r->n_ev < 128)
		r->ev[r->n_ev++] = *ev;
}

/* The station's loop at t: the driver's poll, then the box, then what it
 * sent back. The last read's result (0 or a negative error). */
static ssize_t rig_pump(struct rig *r, int64_t t)
{
	r->driver_due = r->dev.driver->poll(&r->dev, t);
	qst_trigger_sim_step(r->sim, t);
	uint8_t buf[64];
	ssize_t n;
	while ((n = qst_transport_read(r->transport, buf, sizeof(buf), NULL)) > 0)
		r->dev.driver->receive(&r->dev, buf, (size_t)n, t);
	r->now = t;
	return n;
}

static void rig_run_until(struct rig *r, int64_t end)
{
	while (r->now < end) {
		int64_t t = qst_trigger_sim_next_due(r->sim);
		if (r->driver_due < t)
			t = r->driver_due;
		if (t <= r->now)
			t = r->now + 1;
		if (t > end)
			t = end;
		assert_true(rig_pump(r, t) == 0);
	}
}

static struct rig *rig_new(const char *driver)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	int far;
	assert_int_equal(qst_transport_pipe_open("trigger-test", &r->transport,
						 &far), QST_OK);
	assert_int_equal(qst_trigger_sim_new(far, 0, &r->sim), QST_OK);
	r->dev.driver = qst_driver_find(driver);
	assert_non_null(r->dev.driver);
	r->dev.transport = r->transport;
	r->dev.index = 4;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	r->driver_due = INT64_MAX;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	assert_true(r->dev.driver->ready(&r->dev));
	return r;
}

static void rig_free(struct rig *r)
{
	r->dev.driver->close(&r->dev);
	qst_transport_close(r->transport);
	qst_trigger_sim_free(r->sim);
	free(r);
}

static int send_code(struct rig *r, int code, int pulse_ms)
{
	return qst_dev_sync(&r->dev)->send(&r->dev, (uint8_t)code, pulse_ms);
}

struct wire {
	int64_t t_ns;
	uint8_t byte;
};

static void expect_wire(const struct rig *r, const struct wire *want,
			size_t n)
{
	const struct qst_trigger_sim_byte *got;
	size_t n_got = qst_trigger_sim_received(r->sim, &got);
	assert_int_equal(n_got, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].byte, want[i].byte);
		assert_int_equal(got[i].t_ns, want[i].t_ns);
	}
}

/* The SYNC events must be the wire, byte for byte and moment for moment
 * (the first wire byte is open()'s 0x00, which has no event). */
static void expect_sync_events(const struct rig *r, const struct wire *want,
			       const int *pulse_ms, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_SYNC)
			continue;
		assert_true(k < n);
		assert_int_equal(e->device, 4);
		assert_int_equal(e->t_ns, want[k].t_ns);
		assert_int_equal(e->u.sync.code, want[k].byte);
		assert_int_equal(e->u.sync.pulse_ms, pulse_ms[k]);
		k++;
	}
	assert_int_equal(k, n);
}

static void test_triggerbox_codes_on_the_wire(void **state)
{
	(void)state;
	struct rig *r = rig_new("triggerbox");
	assert_int_equal(r->dev.driver->dev_class, QST_DEV_SYNC);
	assert_null(qst_dev_rating(&r->dev));
	assert_string_equal(r->dev.info.model,
			    "Brain Products TriggerBox (unidentified)");
	assert_true(rig_pump(r, 0) == 0);
	assert_int_equal(r->driver_due, INT64_MAX);
	rig_run_until(r, 100 * MS);
	assert_int_equal(send_code(r, 0, 10), QST_ERR_ARG);
	assert_int_equal(send_code(r, 7, 0), QST_ERR_ARG);
	assert_int_equal(send_code(r, 5, 10), QST_OK);
	assert_true(rig_pump(r, 100 * MS) == 0);
	assert_int_equal(r->driver_due, 110 * MS);
	assert_int_equal(qst_trigger_sim_level(r->sim), 5);
	/* Sent while 5 is held: queued behind it, not merged into it. */
	rig_run_until(r, 102 * MS);
	assert_int_equal(send_code(r, 5, 10), QST_OK);
	assert_int_equal(send_code(r, 255, 30), QST_OK);
	assert_true(rig_pump(r, 102 * MS) == 0);
	assert_int_equal(qst_trigger_sim_level(r->sim), 5);
	rig_run_until(r, 1000 * MS);
	assert_int_equal(qst_trigger_sim_level(r->sim), 0);
	assert_int_equal(r->driver_due, INT64_MAX);
	const struct wire want[] = {
		{ 0, 0x00 },
		{ 100 * MS, 5 },   { 110 * MS, 0 },
		{ 120 * MS, 5 },   { 130 * MS, 0 },
		{ 140 * MS, 255 }, { 170 * MS, 0 },
	};
	expect_wire(r, want, 7);
	const int pulses[] = { 10, 0, 10, 0, 30, 0 };
	expect_sync_events(r, want + 1, pulses, 6);
	assert_int_equal(r->n_ev, 6);
	/* Closing writes 0xFF, as Brain Products' sample code does. */
	r->dev.driver->close(&r->dev);
	qst_trigger_sim_step(r->sim, 1100 * MS);
	assert_int_equal(qst_trigger_sim_level(r->sim), 0xFF);
	rig_free(r);
}

/* A station that polls late: each byte goes when polled, and the event
 * says when that was, not when it was due. */
static void test_late_polls_stamp_real_times(void **state)
{
	(void)state;
	struct rig *r = rig_new("mmbts");
	assert_int_equal(send_code(r, 12, 5), QST_OK);
	assert_true(rig_pump(r, 50 * MS) == 0);
	assert_int_equal(r->driver_due, 55 * MS);
	assert_true(rig_pump(r, 58 * MS) == 0);
	assert_int_equal(send_code(r, 13, 5), QST_OK);
	assert_true(rig_pump(r, 60 * MS) == 0); /* still low: 58 + 10 ms */
	assert_int_equal(r->driver_due, 68 * MS);
	assert_true(rig_pump(r, 71 * MS) == 0);
	assert_true(rig_pump(r, 90 * MS) == 0);
	const struct wire want[] = {
		{ 50 * MS, 0x00 }, /* open()'s byte, read at the first step */
		{ 50 * MS, 12 }, { 58 * MS, 0 }, { 71 * MS, 13 }, { 90 * MS, 0 },
	};
	expect_wire(r, want, 5);
	const int pulses[] = { 5, 0, 5, 0 };
	expect_sync_events(r, want + 1, pulses, 4);
	/* The MMBT-S closes with 0x00. */
	assert_int_equal(send_code(r, 14, 5), QST_OK);
	r->dev.driver->close(&r->dev);
	qst_trigger_sim_step(r->sim, 100 * MS);
	const struct qst_trigger_sim_byte *got;
	assert_int_equal(qst_trigger_sim_received(r->sim, &got), 6);
	assert_int_equal(got[5].byte, 0x00);
	rig_free(r);
}

/*
 * The TriggerBox's input port talks back (logged, no events); noise on
 * that line changes nothing on the output. The MMBT-S is not known to
 * send anything, so whatever it sends is reported as link noise.
 */
static void test_inputs_and_noise(void **state)
{
	(void)state;
	struct rig *r = rig_new("triggerbox");
	struct qst_sim_fault f = { .kind = QST_SIM_FAULT_GARBAGE, .at_ns = 0,
				   .seed = 3 };
	assert_int_equal(qst_trigger_sim_set_fault(r->sim, &f), QST_OK);
	assert_int_equal(qst_trigger_sim_input(r->sim, 30 * MS, 0x01), QST_OK);
	assert_int_equal(qst_trigger_sim_input(r->sim, 20 * MS, 0x03), QST_OK);
	assert_int_equal(qst_trigger_sim_next_due(r->sim), 0);
	assert_int_equal(send_code(r, 9, 15), QST_OK);
	assert_true(rig_pump(r, 0) == 0);
	rig_run_until(r, 200 * MS);
	const struct wire want[] = { { 0, 0 }, { 0, 9 }, { 15 * MS, 0 } };
	expect_wire(r, want, 3);
	for (size_t i = 0; i < r->n_ev; i++)
		assert_int_equal(r->ev[i].type, QST_EV_SYNC);
	assert_int_equal(r->noise, 0);
	rig_free(r);

	r = rig_new("mmbts");
	assert_int_equal(qst_trigger_sim_input(r->sim, 20 * MS, 0x42), QST_OK);
	rig_run_until(r, 50 * MS);
	assert_int_equal(r->n_ev, 1);
	assert_int_equal(r->ev[0].type, QST_EV_LINK_NOISE);
	assert_int_equal(r->ev[0].t_ns, 20 * MS);
	assert_int_equal(r->noise, 1);
	rig_free(r);
}

/* The box unplugged: the code that cannot go out is reported, not lost in
 * silence, and the link reads as failed. */
static void test_disconnect(void **state)
{
	(void)state;
	struct rig *r = rig_new("triggerbox");
	struct qst_sim_fault f = { .kind = QST_SIM_FAULT_DISCONNECT,
				   .at_ns = 500 * MS };
	assert_int_equal(qst_trigger_sim_set_fault(r->sim, &f), QST_OK);
	assert_int_equal(send_code(r, 3, 10), QST_OK);
	rig_run_until(r, 400 * MS);
	assert_int_equal(rig_pump(r, 500 * MS), QST_ERR_IO);
	assert_int_equal(send_code(r, 4, 10), QST_OK);
	r->n_ev = 0;
	assert_int_equal(rig_pump(r, 600 * MS), QST_ERR_IO);
	assert_int_equal(r->n_ev, 1);
	assert_int_equal(r->ev[0].type, QST_EV_DEVICE_FAULT);
	assert_int_equal(r->ev[0].t_ns, 600 * MS);
	assert_non_null(strstr(r->ev[0].u.text, "code 0x04 not written"));
	assert_int_equal(r->driver_due, INT64_MAX);
	rig_free(r);
}

/* The simulator needs only an fd: on a pty (raw mode) it reads what a
 * program writes to the slave, and its input changes come out there. */
static void test_sim_on_pty(void **state)
{
	(void)state;
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(slave >= 0);
	struct termios tio;
	assert_int_equal(tcgetattr(slave, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(slave, TCSANOW, &tio), 0);
	struct qst_trigger_sim *sim;
	assert_int_equal(qst_trigger_sim_new(master, 0, &sim), QST_OK);
	const uint8_t out[] = { 0x00, 0x0a, 0x0d, 0xff, 0x00 };
	assert_int_equal(write(slave, out, sizeof(out)), (ssize_t)sizeof(out));
	assert_int_equal(qst_trigger_sim_input(sim, 5 * MS, 0x81), QST_OK);
	const struct qst_trigger_sim_byte *got = NULL;
	for (int tries = 0; tries < 100; tries++) {
		qst_trigger_sim_step(sim, 10 * MS + tries);
		if (qst_trigger_sim_received(sim, &got) == sizeof(out))
			break;
		usleep(1000);
	}
	assert_int_equal(qst_trigger_sim_received(sim, &got), sizeof(out));
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(got[i].byte, out[i]);
	assert_int_equal(qst_trigger_sim_level(sim), 0x00);
	uint8_t in = 0;
	for (int tries = 0; tries < 100 && read(slave, &in, 1) != 1; tries++)
		usleep(1000);
	assert_int_equal(in, 0x81);
	qst_trigger_sim_free(sim);
	close(slave);
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_refuses),
		cmocka_unit_test(test_sched_timing),
		cmocka_unit_test(test_inputs),
		cmocka_unit_test(test_triggerbox_codes_on_the_wire),
		cmocka_unit_test(test_late_polls_stamp_real_times),
		cmocka_unit_test(test_inputs_and_noise),
		cmocka_unit_test(test_disconnect),
		cmocka_unit_test(test_sim_on_pty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
