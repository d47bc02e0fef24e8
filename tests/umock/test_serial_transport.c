/*
 * The serial transport through libserialport against emulated USB-serial
 * ports (lib_serial.h; architecture.md, "Serial (libserialport against an
 * emulated USB-serial port)"): enumeration, opening by path and by USB
 * identity, bytes both ways, and the real drivers identifying against the
 * simulators served on the ports' far ends on the real clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib_serial.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_serial.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS
#define MAX_EVENTS 4096

static const struct qst_umock_port tcs_port = {
	.name = "ttyACM0", .vid = 0x1a86, .pid = 0x7523, .serial = "SIM0001",
	.manufacturer = "QST.Lab", .product = "TCS II", .driver = "cdc_acm",
};
static const struct qst_umock_port xid_port = {
	.name = "ttyUSB0", .vid = 0x0403, .pid = 0x6001, .serial = "FT5XID",
	.manufacturer = "FTDI", .product = "FT232R USB UART",
	.driver = "ftdi_sio",
};
static const struct qst_umock_port gauge_port = {
	.name = "ttyUSB1", .vid = 0x0403, .pid = 0x6001, .serial = "FT5M10",
	.manufacturer = "FTDI", .product = "FT232R USB UART",
	.driver = "ftdi_sio",
};

/* A simulator behind a far end, whatever its kind. */
struct served {
	void *sim;
	void (*step)(void *sim, int64_t t_ns);
	int64_t (*next_due)(const void *sim);
	void (*destroy)(void *sim);
	int far;        /* the simulator's descriptor (it closes it) */
};

struct rig {
	UMockdevTestbed *tb;
	int far[3];
	char syspath[3][128];
	struct served sv;
	struct qst_transport *t;
	struct qst_dev dev;
	struct qst_event ev[MAX_EVENTS];
	size_t n_ev;
	int64_t t0;
	int last_read;
};

static void tcs2_step(void *s, int64_t t) { qst_tcs2_sim_step(s, t); }
static int64_t tcs2_due(const void *s) { return qst_tcs2_sim_next_due(s); }
static void tcs2_free(void *s) { qst_tcs2_sim_free(s); }
static void xid_step(void *s, int64_t t) { qst_xid_sim_step(s, t); }
static int64_t xid_due(const void *s) { return qst_xid_sim_next_due(s); }
static void xid_free(void *s) { qst_xid_sim_free(s); }
static void m10_step(void *s, int64_t t) { qst_mark10_sim_step(s, t); }
static int64_t m10_due(const void *s) { return qst_mark10_sim_next_due(s); }
static void m10_free(void *s) { qst_mark10_sim_free(s); }

static int64_t rig_now(const struct rig *r)
{
	return qst_monotonic_ns() - r->t0;
}

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	if (r->n_ev < MAX_EVENTS)
		r->ev[r->n_ev++] = *ev;
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->tb = qst_umock_testbed();
	assert_non_null(r->tb);
	const struct qst_umock_port *ports[3] = { &tcs_port, &xid_port,
						  &gauge_port };
	for (int i = 0; i < 3; i++) {
		r->far[i] = qst_umock_add_port(r->tb, i + 1, ports[i],
					       r->syspath[i],
					       sizeof(r->syspath[i]));
		assert_true(r->far[i] >= 0);
	}
	r->t0 = qst_monotonic_ns();
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	if (r->dev.driver)
		r->dev.driver->close(&r->dev);
	qst_transport_close(r->t);
	if (r->sv.sim)
		r->sv.destroy(r->sv.sim);
	for (int i = 0; i < 3; i++)
		if (r->far[i] >= 0)
			close(r->far[i]);
	if (r->tb)
		g_object_unref(r->tb);
	free(r);
	return 0;
}

/* Hand far end i to a simulator, which will close it. */
static int take_far(struct rig *r, int i)
{
	int fd = r->far[i];
	r->far[i] = -1;
	return fd;
}

static void open_port(struct rig *r, const char *spec)
{
	char err[256];
	int ret = qst_transport_serial_open(spec, NULL, &r->t, err, sizeof(err));
	if (ret != QST_OK)
		fail_msg("open %s: %s (%s)", spec, qst_strerror(ret), err);
}

/* Wait up to 1 s for want_len bytes on fd; returns how many came. */
static size_t far_read(int fd, char *buf, size_t want_len)
{
	size_t got = 0;
	int64_t end = qst_monotonic_ns() + 1000 * MS;
	while (got < want_len && qst_monotonic_ns() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		poll(&pfd, 1, 20);
		ssize_t n = read(fd, buf + got, want_len - got);
		if (n > 0)
			got += (size_t)n;
	}
	return got;
}

/* Read from the transport until want_len bytes came or 1 s passed. */
static size_t near_read(struct qst_transport *t, char *buf, size_t want_len)
{
	size_t got = 0;
	int64_t end = qst_monotonic_ns() + 1000 * MS;
	while (got < want_len && qst_monotonic_ns() < end) {
		struct pollfd pfd = { .fd = qst_transport_fd(t), .events = POLLIN };
		poll(&pfd, 1, 20);
		ssize_t n = qst_transport_read(t, buf + got, want_len - got, NULL);
		assert_true(n >= 0);
		got += (size_t)n;
	}
	return got;
}

/* ------------------------------------------------------------ enumerate */

static const struct qst_serial_info *find_info(const struct qst_serial_info *in,
					       int n, const char *path)
{
	for (int i = 0; i < n; i++)
		if (strcmp(in[i].path, path) == 0)
			return &in[i];
	return NULL;
}

static void test_enumerate_lists_ports(void **state)
{
	(void)state;
	struct qst_serial_info in[16];
	int n = qst_serial_enumerate(in, 16);
	assert_true(n >= 3);
	const struct qst_serial_info *a = find_info(in, n, "/dev/ttyACM0");
	assert_non_null(a);
	assert_int_equal(a->transport, QST_SERIAL_USB);
	assert_string_equal(qst_serial_transport_name(a->transport), "usb");
	assert_int_equal(a->vid, 0x1a86);
	assert_int_equal(a->pid, 0x7523);
	assert_string_equal(a->serial, "SIM0001");
	assert_string_equal(a->manufacturer, "QST.Lab");
	assert_string_equal(a->product, "TCS II");
	const struct qst_serial_info *b = find_info(in, n, "/dev/ttyUSB1");
	assert_non_null(b);
	assert_int_equal(b->vid, 0x0403);
	assert_int_equal(b->pid, 0x6001);
	assert_string_equal(b->serial, "FT5M10");
	/* A short array gets the first ones, no more. */
	assert_int_equal(qst_serial_enumerate(in, 1), 1);
	assert_int_equal(qst_serial_enumerate(NULL, 0), 0);
	assert_int_equal(qst_serial_enumerate(NULL, 3), QST_ERR_ARG);
}

/* ------------------------------------------------------- bytes both ways */

static void test_path_bytes_both_ways(void **state)
{
	struct rig *r = *state;
	open_port(r, "/dev/ttyACM0");
	/* libserialport's path, not the simulator's pty path */
	assert_string_equal(r->t->description, "/dev/ttyACM0");
	assert_true(qst_transport_fd(r->t) >= 0);
	char buf[64] = { 0 };
	assert_int_equal(qst_transport_read(r->t, buf, sizeof(buf), NULL), 0);
	/* Two writes arrive as one stream, in order, unchanged (CR too). */
	assert_int_equal(qst_transport_write(r->t, "C04", 3, 100), QST_OK);
	assert_int_equal(qst_transport_write(r->t, "50\rL", 4, 100), QST_OK);
	assert_int_equal(far_read(r->far[0], buf, 7), 7);
	assert_memory_equal(buf, "C0450\rL", 7);
	/* The far end's bytes, written in pieces, read back whole. */
	assert_int_equal(write(r->far[0], "\rTC", 3), 3);
	assert_int_equal(write(r->far[0], "S\r320", 5), 5);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(near_read(r->t, buf, 8), 8);
	assert_memory_equal(buf, "\rTCS\r320", 8);
	/* A long write, more than one USB packet's worth. */
	char big[1000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(qst_transport_write(r->t, big, sizeof(big), 500), QST_OK);
	char back[1000];
	assert_int_equal(far_read(r->far[0], back, sizeof(back)), sizeof(back));
	assert_memory_equal(back, big, sizeof(big));
	/* The far end stops reading: a write that cannot finish by its
	 * deadline is a short write, reported as a timeout. */
	size_t huge_len = 1 << 20;
	char *huge = calloc(1, huge_len);
	assert_non_null(huge);
	int64_t t0 = qst_monotonic_ns();
	assert_int_equal(qst_transport_write(r->t, huge, huge_len, 50),
			 QST_ERR_TIMEOUT);
	assert_true(qst_monotonic_ns() - t0 < 2 * QST_NS_PER_S);
	free(huge);
}

static void test_open_by_usb_identity(void **state)
{
	struct rig *r = *state;
	open_port(r, "usb:1a86:7523:SIM0001");
	assert_string_equal(r->t->description, "/dev/ttyACM0");
	qst_transport_close(r->t);
	open_port(r, "usb:1A86:7523"); /* the only one: no serial needed */
	assert_string_equal(r->t->description, "/dev/ttyACM0");
	assert_int_equal(qst_transport_write(r->t, "?", 1, 100), QST_OK);
	char c;
	assert_int_equal(far_read(r->far[0], &c, 1), 1);
	assert_int_equal(c, '?');
	qst_transport_close(r->t);
	open_port(r, "usb:0403:6001:FT5M10");
	assert_string_equal(r->t->description, "/dev/ttyUSB1");
	qst_transport_close(r->t);
	r->t = NULL;
}

static void test_wrong_identity_is_clear(void **state)
{
	struct rig *r = *state;
	char err[256];
	assert_int_equal(qst_transport_serial_open("usb:1a86:7524", NULL, &r->t,
						   err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_null(r->t);
	assert_non_null(strstr(err, "no serial port with USB id 1a86:7524"));
	assert_int_equal(qst_transport_serial_open("usb:1a86:7523:OTHER", NULL,
						   &r->t, err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_non_null(strstr(err, "serial OTHER"));
	/* Two FTDI bridges: which one is not guessed. */
	assert_int_equal(qst_transport_serial_open("usb:0403:6001", NULL, &r->t,
						   err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_non_null(strstr(err, "2 serial ports have USB id 0403:6001"));
	assert_non_null(strstr(err, "add :SERIAL"));
	assert_null(r->t);
}

/* ---------------------------------------------------- drivers, real clock */

static void attach_driver(struct rig *r, const char *spec, const char *name)
{
	open_port(r, spec);
	r->dev.driver = qst_driver_find(name);
	assert_non_null(r->dev.driver);
	r->dev.transport = r->t;
	r->dev.index = 2;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
}

/* Serve the simulator and feed the driver for dur_ns, sleeping in poll()
 * until bytes come or the simulator is due. Stops when a read fails. */
static void rig_run(struct rig *r, int64_t dur_ns)
{
	int64_t end = rig_now(r) + dur_ns;
	while (rig_now(r) < end) {
		int64_t now = rig_now(r);
		if (r->sv.sim)
			r->sv.step(r->sv.sim, now);
		int64_t due = r->sv.sim ? r->sv.next_due(r->sv.sim) : end;
		int64_t wait = (due < end ? due : end) - now;
		int ms = wait <= 0 ? 0 : (int)((wait + MS - 1) / MS);
		struct pollfd pfd[2] = {
			{ .fd = qst_transport_fd(r->t), .events = POLLIN },
			{ .fd = r->sv.sim ? r->sv.far : -1, .events = POLLIN },
		};
		poll(pfd, 2, ms > 20 ? 20 : ms);
		uint8_t buf[512];
		ssize_t n;
		while ((n = qst_transport_read(r->t, buf, sizeof(buf), NULL)) > 0)
			r->dev.driver->receive(&r->dev, buf, (size_t)n, rig_now(r));
		r->last_read = (int)n;
		if (n < 0)
			return;
	}
}

static void open_until_ready(struct rig *r)
{
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	for (int i = 0; i < 100 && !r->dev.driver->ready(&r->dev); i++)
		rig_run(r, 20 * MS);
	assert_true(r->dev.driver->ready(&r->dev));
}

static void serve_tcs2(struct rig *r)
{
	struct qst_tcs2_sim_config cfg = {
		.initial_c = 32.0, .max_heat_c_s = 70.0, .max_cool_c_s = 40.0,
		.lag_s = 0.02, .noise_sd_c = 0.02, .seed = 9,
	};
	snprintf(cfg.serial, sizeof(cfg.serial), "SIM-UMOCK");
	r->sv.far = take_far(r, 0);
	struct qst_tcs2_sim *s;
	assert_int_equal(qst_tcs2_sim_new(r->sv.far, &cfg, rig_now(r), &s),
			 QST_OK);
	r->sv = (struct served){ s, tcs2_step, tcs2_due, tcs2_free, r->sv.far };
}

static void test_tcs2_identifies_and_ramps(void **state)
{
	struct rig *r = *state;
	serve_tcs2(r);
	attach_driver(r, "usb:1a86:7523:SIM0001", "tcs2");
	open_until_ready(r);
	assert_string_equal(r->dev.info.model, "QST.Lab TCS II");
	assert_string_equal(r->dev.info.serial, "SIM-UMOCK");
	const struct qst_thermal_ops *th = qst_dev_thermal(&r->dev);
	assert_int_equal(th->set_neutral(&r->dev, 32.0), QST_OK);
	assert_int_equal(th->set_max(&r->dev, 45.0), QST_OK);
	r->n_ev = 0;
	assert_int_equal(th->ramp(&r->dev, 38.0, 30.0, 0.2, 30.0), QST_OK);
	rig_run(r, 700 * MS);
	assert_int_equal(r->last_read, 0);
	size_t n_temp = 0;
	double peak = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		if (r->ev[i].type != QST_EV_TEMPERATURE)
			continue;
		assert_int_equal(r->ev[i].device, 2);
		assert_true(fabs(r->ev[i].u.temp.neutral_c - 32.0) < 1e-9);
		n_temp++;
		double s = 0;
		for (int z = 0; z < QST_THERMODE_ZONES; z++)
			s += r->ev[i].u.temp.zone_c[z];
		peak = fmax(peak, s / QST_THERMODE_ZONES);
	}
	/* 100 Hz during 0.2 s rise, 0.2 s hold and 0.2 s return. */
	assert_in_range(n_temp, 40, 80);
	assert_true(peak > 37.5 && peak < 38.5);
}

static void test_xid_identifies_and_reports_keys(void **state)
{
	struct rig *r = *state;
	struct qst_xid_sim *s;
	int far = take_far(r, 1);
	assert_int_equal(qst_xid_sim_new(far, rig_now(r), &s), QST_OK);
	r->sv = (struct served){ s, xid_step, xid_due, xid_free, far };
	attach_driver(r, "/dev/ttyUSB0", "xid");
	open_until_ready(r);
	int64_t t_sent = rig_now(r);
	assert_int_equal(qst_dev_response(&r->dev)->reset_timer(&r->dev), QST_OK);
	rig_run(r, 10 * MS);
	int64_t t = rig_now(r);
	/* The device's timer started between t_sent and t. */
	int64_t lag_ms = (t - t_sent) / MS + 1;
	r->n_ev = 0;
	assert_int_equal(qst_xid_sim_schedule(s, t + 100 * MS, 4, true), QST_OK);
	assert_int_equal(qst_xid_sim_schedule(s, t + 180 * MS, 4, false), QST_OK);
	rig_run(r, 400 * MS);
	size_t n = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		if (r->ev[i].type != QST_EV_BUTTON)
			continue;
		const struct qst_button_reading *b = &r->ev[i].u.button;
		assert_int_equal(b->key, 4);
		assert_int_equal(b->pressed, n == 0);
		/* The device's own clock, from its reset: 100 and 180 ms
		 * after t, plus up to the reset's lag. */
		int64_t rt = n ? 180 : 100;
		assert_in_range(b->device_rt_ms, rt, rt + lag_ms);
		n++;
	}
	assert_int_equal(n, 2);
}

static void test_mark10_identifies_and_reads_force(void **state)
{
	struct rig *r = *state;
	struct qst_mark10_sim_config cfg = { .capacity_n = 500, .noise_n = 0.05,
					     .seed = 3 };
	struct qst_mark10_sim *s;
	int far = take_far(r, 2);
	assert_int_equal(qst_mark10_sim_new(far, &cfg, rig_now(r), &s), QST_OK);
	r->sv = (struct served){ s, m10_step, m10_due, m10_free, far };
	attach_driver(r, "usb:0403:6001:FT5M10", "mark10");
	open_until_ready(r);
	const struct qst_pressure_ops *pr = qst_dev_pressure(&r->dev);
	assert_int_equal(pr->set_probe_area(&r->dev, 1.0), QST_OK);
	assert_int_equal(pr->set_rate(&r->dev, 50.0), QST_OK);
	qst_mark10_sim_hand_press(s, rig_now(r), 50.0);
	r->n_ev = 0;
	int64_t end = rig_now(r) + 600 * MS;
	while (rig_now(r) < end) {
		int64_t next = r->dev.driver->poll ?
			r->dev.driver->poll(&r->dev, rig_now(r)) : INT64_MAX;
		int64_t step = next - rig_now(r);
		rig_run(r, step < MS ? MS : step > 20 * MS ? 20 * MS : step);
	}
	size_t n = 0;
	double last = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		if (r->ev[i].type != QST_EV_PRESSURE)
			continue;
		n++;
		last = r->ev[i].u.pressure.force_n;
	}
	assert_true(n >= 5);
	/* 50 N/s for most of 0.6 s, uneven as a hand is. */
	assert_true(last > 10.0 && last < 40.0);
}

/* ----------------------------------------------------------------- unplug */

/*
 * Unplugging, as far as umockdev 0.17 emulates it. The simulator's end
 * closing is not enough (it holds only a duplicate; the testbed keeps the
 * pty master). umockdev_testbed_remove_device() takes the sysfs records
 * away, but keeps the master and the /dev node: the open port only goes
 * quiet, and the device is no longer found by its USB identity. Even the
 * testbed's end keeps the pty master open; once the master closes
 * (qst_umock_hangup) the tty hangs up as a real one does on a USB-serial
 * unplug, and reads and writes fail with QST_ERR_IO.
 */
static void test_unplug_reads_io_error(void **state)
{
	struct rig *r = *state;
	serve_tcs2(r);
	attach_driver(r, "/dev/ttyACM0", "tcs2");
	open_until_ready(r);
	r->sv.destroy(r->sv.sim);
	r->sv.sim = NULL;
	rig_run(r, 50 * MS);
	assert_int_equal(r->last_read, 0);
	qst_umock_unplug(r->tb, r->syspath[0]);
	rig_run(r, 50 * MS);
	assert_int_equal(r->last_read, 0);
	struct qst_transport *again = NULL;
	char err[256];
	assert_int_equal(qst_transport_serial_open("usb:1a86:7523", NULL, &again,
						   err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_non_null(strstr(err, "no serial port with USB id 1a86:7523"));
	assert_null(again);
	assert_int_equal(qst_umock_hangup(r->tb, "/dev/ttyACM0"), 0);
	rig_run(r, 300 * MS);
	assert_int_equal(r->last_read, QST_ERR_IO);
	assert_int_equal(qst_transport_write(r->t, "?", 1, 50), QST_ERR_IO);
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enumerate_lists_ports,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_path_bytes_both_ways,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_open_by_usb_identity,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_identity_is_clear,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_tcs2_identifies_and_ramps,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_xid_identifies_and_reports_keys,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_mark10_identifies_and_reads_force,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_unplug_reads_io_error,
						rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
