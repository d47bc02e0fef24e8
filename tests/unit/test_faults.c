/*
 * The wire log and the simulators' injected faults: what the tap records,
 * in memory and as text, and what each fault does on the wire, driven
 * through the real drivers over a pipe on a virtual clock.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qst_drivers.h"
#include "qst_sim.h"
#include "qst_station.h"
#include "qst_wirelog.h"

#define MS QST_NS_PER_MS
#define SEC QST_NS_PER_S

/* ------------------------------------------------------------- wire log */

static void escape_is(const char *bytes, size_t len, const char *want)
{
	char out[128];
	size_t n = qst_wire_escape((const uint8_t *)bytes, len, out, sizeof(out));
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void wire_escape_keeps_commands_readable(void **state)
{
	(void)state;
	escape_is("C0500", 5, "C0500");
	escape_is("\r320+320", 8, "\\x0d320+320");
	escape_is("a b\\", 4, "a\\x20b\\x5c");
	escape_is("k\x10\x00\xff", 4, "k\\x10\\x00\\xff");
	escape_is("-", 1, "\\x2d");  /* a lone '-' would read as "no bytes" */
	escape_is("-5", 2, "-5");
	escape_is("", 0, "");
	/* Too small a buffer: cut at a whole byte, terminated, full length
	 * returned. */
	char small[7];
	assert_int_equal(qst_wire_escape((const uint8_t *)"\r\r", 2, small,
					 sizeof(small)), 8);
	assert_string_equal(small, "\\x0d");
}

static int64_t fake_now;

static int64_t fake_clock(void *user)
{
	(void)user;
	return fake_now;
}

static void chunk_is(const struct qst_wirelog *log, size_t i, int64_t t,
		     const char *role, enum qst_wire_dir dir, int status,
		     const char *bytes, size_t len)
{
	struct qst_wire_chunk c;
	assert_int_equal(qst_wirelog_get(log, i, &c), QST_OK);
	assert_int_equal(c.t_ns, t);
	assert_string_equal(c.role, role);
	assert_int_equal(c.dir, dir);
	assert_int_equal(c.status, status);
	assert_int_equal(c.len, len);
	assert_memory_equal(c.data, bytes, len);
}

/* Both directions of a pipe, a lost far end, and the text lines. */
static void wirelog_records_both_ways_and_link_loss(void **state)
{
	(void)state;
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);
	assert_non_null(out);
	struct qst_wirelog *log;
	assert_int_equal(qst_wirelog_new(out, true, &log), QST_OK);
	qst_wirelog_set_clock(log, fake_clock, NULL);
	struct qst_transport *t;
	int far;
	assert_int_equal(qst_transport_pipe_open("wl", &t, &far), QST_OK);
	assert_int_equal(qst_wirelog_attach(log, t, "thermal"), QST_OK);
	assert_int_equal(qst_wirelog_attach(log, t, "bad role"), QST_ERR_ARG);

	fake_now = 5;
	assert_int_equal(qst_transport_write(t, "C0450", 5, 100), QST_OK);
	uint8_t buf[64];
	assert_int_equal(qst_transport_read(t, buf, sizeof(buf), NULL), 0);
	assert_int_equal(qst_wirelog_count(log), 1); /* nothing read: no chunk */
	assert_int_equal(write(far, "\r320+320", 8), 8);
	fake_now = 7;
	assert_int_equal(qst_transport_read(t, buf, sizeof(buf), NULL), 8);
	close(far);
	fake_now = 9;
	assert_int_equal(qst_transport_read(t, buf, sizeof(buf), NULL), QST_ERR_IO);
	assert_true(qst_transport_write(t, "A", 1, 100) < 0);

	assert_int_equal(qst_wirelog_count(log), 4);
	chunk_is(log, 0, 5, "thermal", QST_WIRE_TX, QST_OK, "C0450", 5);
	chunk_is(log, 1, 7, "thermal", QST_WIRE_RX, QST_OK, "\r320+320", 8);
	chunk_is(log, 2, 9, "thermal", QST_WIRE_RX, QST_ERR_IO, "", 0);
	chunk_is(log, 3, 9, "thermal", QST_WIRE_TX, QST_ERR_IO, "A", 1);
	struct qst_wire_chunk c;
	assert_int_equal(qst_wirelog_get(log, 4, &c), QST_ERR_ARG);
	qst_transport_close(t);
	qst_wirelog_free(log);
	fclose(out);
	assert_string_equal(text,
		"# qst wire log 1: t_ns role dir bytes [error]\n"
		"5 thermal > C0450\n"
		"7 thermal < \\x0d320+320\n"
		"9 thermal <! - QST_ERR_IO\n"
		"9 thermal >! A QST_ERR_IO\n");
	free(text);
}

/* ------------------------------------------------------ fault specifications */

static void fault_specs_parse_and_refuse(void **state)
{
	(void)state;
	struct qst_sim_fault f;
	char err[200];
	assert_int_equal(qst_sim_fault_parse("stall@52.5", &f, err, sizeof(err)), QST_OK);
	assert_int_equal(f.kind, QST_SIM_FAULT_STALL);
	assert_int_equal(f.at_ns, 52500 * MS);
	assert_int_equal(qst_sim_fault_parse("garbage@3:0.25", &f, err, sizeof(err)), QST_OK);
	assert_int_equal(f.kind, QST_SIM_FAULT_GARBAGE);
	assert_true(f.arg == 0.25);
	assert_int_equal(qst_sim_fault_parse("diverge@10:-8", &f, err, sizeof(err)), QST_OK);
	assert_true(f.arg == -8.0);
	const char *bad[] = { "stall", "stall@", "melt@3", "stall@-1", "stall@3:1",
			      "disconnect@x", "garbage@1:-2", "diverge@1:99",
			      "diverge@1:", "@3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (qst_sim_fault_parse(bad[i], &f, err, sizeof(err)) != QST_ERR_ARG)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(err, bad[i]));
	}
	struct qst_station_config cfg = { 0 };
	assert_int_equal(qst_station_parse_fault(&cfg, "response:garbage@3:0.5",
						 err, sizeof(err)), QST_OK);
	assert_int_equal(cfg.faults[QST_ROLE_RESPONSE].kind, QST_SIM_FAULT_GARBAGE);
	assert_int_equal(cfg.faults[QST_ROLE_THERMAL].kind, QST_SIM_FAULT_NONE);
	assert_int_equal(qst_station_parse_fault(&cfg, "diverge@2", err, sizeof(err)),
			 QST_OK);
	assert_int_equal(cfg.faults[QST_ROLE_THERMAL].kind, QST_SIM_FAULT_DIVERGE);
	assert_int_equal(qst_station_parse_fault(&cfg, "response:diverge@2", err,
						 sizeof(err)), QST_ERR_ARG);
	assert_int_equal(qst_station_parse_fault(&cfg, "vibration:stall@2", err,
						 sizeof(err)), QST_ERR_ARG);
	assert_int_equal(qst_station_parse_fault(&cfg, "pad:stall@2", err,
						 sizeof(err)), QST_ERR_ARG);
}

/* ---------------------------------------- TCS II simulator with a fault */

#define MAX_EVENTS 4096

struct rig {
	struct qst_wirelog *log;
	struct qst_transport *transport;
	struct qst_tcs2_sim *sim;
	struct qst_dev dev;
	struct qst_event ev[MAX_EVENTS];
	size_t n_ev;
	int64_t now;
	int read_error;    /* the first failed read, 0 none */
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	if (r->n_ev < MAX_EVENTS)
		r->ev[r->n_ev++] = *ev;
}

static int64_t rig_clock(void *user)
{
	return ((struct rig *)user)->now;
}

static void rig_pump(struct rig *r, int64_t t)
{
	r->now = t;
	qst_tcs2_sim_step(r->sim, t);
	uint8_t buf[512];
	ssize_t n;
	while (!r->read_error &&
	       (n = qst_transport_read(r->transport, buf, sizeof(buf), NULL)) != 0) {
		if (n < 0)
			r->read_error = (int)n;
		else
			r->dev.driver->receive(&r->dev, buf, (size_t)n, t);
	}
}

static void rig_run_until(struct rig *r, int64_t end)
{
	while (r->now < end) {
		int64_t t = qst_tcs2_sim_next_due(r->sim);
		if (t <= r->now)
			t = r->now + 1000;
		rig_pump(r, t > end ? end : t);
	}
}

/* A TCS II with fault f, opened, then stimulating: 32 → 50 °C at 1 °C/s
 * from t = 1 s. */
static struct rig *rig_new(enum qst_sim_fault_kind kind, int64_t at, double arg)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(qst_wirelog_new(NULL, true, &r->log), QST_OK);
	qst_wirelog_set_clock(r->log, rig_clock, r);
	int far;
	assert_int_equal(qst_transport_pipe_open("tcs2-fault", &r->transport, &far),
			 QST_OK);
	assert_int_equal(qst_wirelog_attach(r->log, r->transport, "thermal"), QST_OK);
	struct qst_tcs2_sim_config cfg = { .initial_c = 32, .max_heat_c_s = 70,
					   .max_cool_c_s = 40, .lag_s = 0.05,
					   .noise_sd_c = 0.02, .seed = 7 };
	assert_int_equal(qst_tcs2_sim_new(far, &cfg, 0, &r->sim), QST_OK);
	struct qst_sim_fault f = { .kind = kind, .at_ns = at, .arg = arg, .seed = 99 };
	assert_int_equal(qst_tcs2_sim_set_fault(r->sim, &f), QST_OK);
	r->dev.driver = qst_driver_find("tcs2");
	r->dev.transport = r->transport;
	r->dev.sink = (struct qst_event_sink){ collect, r };
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	rig_pump(r, 0);
	assert_true(r->dev.driver->ready(&r->dev));
	rig_run_until(r, SEC);
	const struct qst_thermal_ops *th = qst_dev_thermal(&r->dev);
	assert_int_equal(th->ramp(&r->dev, 50.0, 1.0, 0.0, 5.0), QST_OK);
	rig_pump(r, r->now);
	return r;
}

static void rig_free(struct rig *r)
{
	r->dev.driver->close(&r->dev);
	qst_transport_close(r->transport);
	qst_tcs2_sim_free(r->sim);
	qst_wirelog_free(r->log);
	free(r);
}

/* Readback samples in [from, to): count, and the last one's mean. */
static int samples_between(const struct rig *r, int64_t from, int64_t to,
			   double *last_c)
{
	int n = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_TEMPERATURE || e->t_ns < from || e->t_ns >= to)
			continue;
		double s = 0;
		for (int z = 0; z < QST_THERMODE_ZONES; z++)
			s += e->u.temp.zone_c[z];
		if (last_c)
			*last_c = s / QST_THERMODE_ZONES;
		n++;
	}
	return n;
}

/* Bytes the device sent at or after t, per the wire log. */
static size_t rx_bytes_from(const struct rig *r, int64_t t)
{
	size_t n = 0;
	for (size_t i = 0; i < qst_wirelog_count(r->log); i++) {
		struct qst_wire_chunk c;
		qst_wirelog_get(r->log, i, &c);
		if (c.dir == QST_WIRE_RX && c.t_ns >= t)
			n += c.len;
	}
	return n;
}

static void stall_silences_the_device(void **state)
{
	(void)state;
	struct rig *r = rig_new(QST_SIM_FAULT_STALL, 3 * SEC, 0);
	rig_run_until(r, 5 * SEC);
	/* 100 Hz until the stall, nothing after, not even a reply to `E`. */
	assert_in_range(samples_between(r, 2 * SEC, 3 * SEC, NULL), 99, 101);
	assert_int_equal(samples_between(r, 3 * SEC, 6 * SEC, NULL), 0);
	assert_int_equal(qst_dev_send(&r->dev, "E", 1), QST_OK);
	rig_run_until(r, 6 * SEC);
	assert_int_equal(rx_bytes_from(r, 3 * SEC), 0);
	/* The plate goes on with its ramp: the device is hung, not off. */
	assert_true(fabs(qst_tcs2_sim_plate_c(r->sim) - 37.0) < 0.2);
	assert_int_equal(r->read_error, 0);
	rig_free(r);
}

static void disconnect_ends_the_stream(void **state)
{
	(void)state;
	struct rig *r = rig_new(QST_SIM_FAULT_DISCONNECT, 2500 * MS, 0);
	rig_run_until(r, 4 * SEC);
	assert_int_equal(r->read_error, QST_ERR_IO);
	/* The station is stepped at the fault's own moment. */
	size_t last = qst_wirelog_count(r->log) - 1;
	struct qst_wire_chunk c;
	qst_wirelog_get(r->log, last, &c);
	assert_int_equal(c.dir, QST_WIRE_RX);
	assert_int_equal(c.status, QST_ERR_IO);
	assert_int_equal(c.t_ns, 2500 * MS);
	assert_true(qst_dev_send(&r->dev, "A", 1) < 0);
	rig_free(r);
}

/* Noise for 0.3 s: readback lines are lost and counted, then the parser is
 * back in step; the same seed gives the same bytes. */
static void garbage_burst_drops_lines_then_resyncs(void **state)
{
	(void)state;
	struct rig *r = rig_new(QST_SIM_FAULT_GARBAGE, 2 * SEC, 0.3);
	rig_run_until(r, 3 * SEC);
	int during = samples_between(r, 2 * SEC, 2300 * MS, NULL);
	assert_true(during < 25); /* of 30 lines, nearly all corrupted */
	double last;
	assert_in_range(samples_between(r, 2400 * MS, 3 * SEC, &last), 59, 61);
	assert_true(fabs(last - 34.0) < 0.3); /* and the values are right */
	uint64_t noise = 0;
	for (size_t i = 0; i < r->n_ev; i++)
		if (r->ev[i].type == QST_EV_LINK_NOISE) {
			assert_true(r->ev[i].t_ns >= 2 * SEC &&
				    r->ev[i].t_ns < 2400 * MS);
			noise += r->ev[i].u.noise_bytes;
		}
	assert_true(noise > 30);

	struct rig *again = rig_new(QST_SIM_FAULT_GARBAGE, 2 * SEC, 0.3);
	rig_run_until(again, 3 * SEC);
	assert_int_equal(qst_wirelog_count(again->log), qst_wirelog_count(r->log));
	for (size_t i = 0; i < qst_wirelog_count(r->log); i++) {
		struct qst_wire_chunk a, b;
		qst_wirelog_get(r->log, i, &a);
		qst_wirelog_get(again->log, i, &b);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
	}
	rig_free(again);
	rig_free(r);
}

static void diverging_plate_stops_following(void **state)
{
	(void)state;
	struct rig *r = rig_new(QST_SIM_FAULT_DIVERGE, 3 * SEC, 0);
	rig_run_until(r, 6 * SEC);
	double last;
	samples_between(r, 5900 * MS, 6 * SEC, &last);
	/* At 3 s the plate was at ~34 °C (lag 0.05 s); it stays there while
	 * the command goes on to 37 °C, and the readback says so. */
	assert_true(fabs(last - 33.95) < 0.15);
	assert_true(fabs(qst_tcs2_sim_plate_c(r->sim) - 33.95) < 0.1);
	rig_free(r);

	r = rig_new(QST_SIM_FAULT_DIVERGE, 3 * SEC, -6);
	rig_run_until(r, 4 * SEC);
	assert_true(fabs(qst_tcs2_sim_plate_c(r->sim) - 27.95) < 0.1);
	/* `A` does not bring a broken plate back. */
	assert_int_equal(qst_dev_thermal(&r->dev)->abort(&r->dev), QST_OK);
	rig_run_until(r, 8 * SEC);
	assert_true(fabs(qst_tcs2_sim_plate_c(r->sim) - 27.95) < 0.1);
	rig_free(r);
}

/* ------------------------------------------------ the pad with a fault */

static void stalled_pad_loses_key_events(void **state)
{
	(void)state;
	int far;
	struct qst_transport *t;
	assert_int_equal(qst_transport_pipe_open("xid-fault", &t, &far), QST_OK);
	struct qst_xid_sim *sim;
	assert_int_equal(qst_xid_sim_new(far, 0, &sim), QST_OK);
	struct qst_sim_fault f = { .kind = QST_SIM_FAULT_STALL, .at_ns = 2 * SEC };
	assert_int_equal(qst_xid_sim_set_fault(sim, &f), QST_OK);
	f.kind = QST_SIM_FAULT_DIVERGE;
	assert_int_equal(qst_xid_sim_set_fault(sim, &f), QST_ERR_ARG);
	qst_xid_sim_schedule(sim, 1 * SEC, 1, true);
	qst_xid_sim_schedule(sim, 3 * SEC, 1, true);
	qst_xid_sim_step(sim, 1 * SEC);
	uint8_t buf[64];
	assert_int_equal(qst_transport_read(t, buf, sizeof(buf), NULL), 6);
	qst_xid_sim_step(sim, 4 * SEC);
	assert_int_equal(qst_transport_read(t, buf, sizeof(buf), NULL), 0);
	/* Nothing left to step for: a stalled pad does not spin the clock. */
	assert_true(qst_xid_sim_next_due(sim) == QST_SIM_NEVER);
	qst_xid_sim_free(sim);
	qst_transport_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wire_escape_keeps_commands_readable),
		cmocka_unit_test(wirelog_records_both_ways_and_link_loss),
		cmocka_unit_test(fault_specs_parse_and_refuse),
		cmocka_unit_test(stall_silences_the_device),
		cmocka_unit_test(disconnect_ends_the_stream),
		cmocka_unit_test(garbage_burst_drops_lines_then_resyncs),
		cmocka_unit_test(diverging_plate_stops_following),
		cmocka_unit_test(stalled_pad_loses_key_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
