/*
 * The serial transport's pseudo-terminal path (docs/serial.md), the one
 * `qst run --station` takes against `qst simulate`: the test opens a pty
 * itself, serves the TCS II simulator on the master on the real clock,
 * and drives the real tcs2 driver through qst_transport_serial_open() on
 * the slave path. Also the open errors an operator sees.
 */
#define _GNU_SOURCE /* ptsname_r */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS
#define MAX_EVENTS 4096

struct rig {
	int master;
	char path[64];
	struct qst_tcs2_sim *sim;
	struct qst_transport *t;
	struct qst_dev dev;
	struct qst_event ev[MAX_EVENTS];
	size_t n_ev;
	int64_t t0;
	int last_read; /* last qst_transport_read result */
};

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

/* A pty whose master serves a simulated TCS II (non-blocking: the
 * simulator reads until nothing waits). */
static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(r->master >= 0);
	assert_int_equal(grantpt(r->master), 0);
	assert_int_equal(unlockpt(r->master), 0);
	assert_int_equal(ptsname_r(r->master, r->path, sizeof(r->path)), 0);
	assert_int_equal(fcntl(r->master, F_SETFL, O_NONBLOCK), 0);
	r->t0 = qst_monotonic_ns();
	struct qst_tcs2_sim_config cfg = {
		.initial_c = 32.0, .max_heat_c_s = 70.0, .max_cool_c_s = 40.0,
		.lag_s = 0.02, .noise_sd_c = 0.02, .seed = 5,
	};
	snprintf(cfg.serial, sizeof(cfg.serial), "SIM-PTY");
	assert_int_equal(qst_tcs2_sim_new(r->master, &cfg, 0, &r->sim), QST_OK);
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	if (r->dev.driver)
		r->dev.driver->close(&r->dev);
	qst_transport_close(r->t);
	qst_tcs2_sim_free(r->sim); /* closes the master */
	free(r);
	return 0;
}

/* Serve the simulator and feed the driver on the real clock for dur_ns,
 * sleeping in poll() between. Stops early when the link fails. */
static void rig_run(struct rig *r, int64_t dur_ns)
{
	int64_t end = rig_now(r) + dur_ns;
	while (rig_now(r) < end) {
		int64_t now = rig_now(r);
		if (r->sim)
			qst_tcs2_sim_step(r->sim, now);
		int64_t due = r->sim ? qst_tcs2_sim_next_due(r->sim) : end;
		int64_t wait = (due < end ? due : end) - now;
		int ms = wait <= 0 ? 0 : (int)((wait + MS - 1) / MS);
		struct pollfd pfd[2] = {
			{ .fd = qst_transport_fd(r->t), .events = POLLIN },
			{ .fd = r->sim ? r->master : -1, .events = POLLIN },
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

static void rig_open_driver(struct rig *r)
{
	char err[256];
	assert_int_equal(qst_transport_serial_open(r->path, NULL, &r->t, err,
						   sizeof(err)), QST_OK);
	r->dev.driver = qst_driver_find("tcs2");
	assert_non_null(r->dev.driver);
	r->dev.transport = r->t;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	for (int i = 0; i < 100 && !r->dev.driver->ready(&r->dev); i++)
		rig_run(r, 20 * MS);
	assert_true(r->dev.driver->ready(&r->dev));
}

static void test_pty_is_raw_and_described(void **state)
{
	struct rig *r = *state;
	char err[256];
	assert_int_equal(qst_transport_serial_open(r->path, NULL, &r->t, err,
						   sizeof(err)), QST_OK);
	char want[96];
	snprintf(want, sizeof(want), "pty:%s", r->path);
	assert_string_equal(r->t->description, want);
	struct termios tio;
	assert_int_equal(tcgetattr(qst_transport_fd(r->t), &tio), 0);
	assert_int_equal(tio.c_lflag & (ECHO | ICANON | ISIG), 0);
	assert_int_equal(tio.c_iflag & (ICRNL | IXON), 0);
	assert_int_equal(tio.c_oflag & OPOST, 0);
	/* Bytes go through unchanged both ways, CR included. */
	assert_int_equal(qst_transport_write(r->t, "A\rB\n", 4, 100), QST_OK);
	char buf[16];
	struct pollfd pfd = { .fd = r->master, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(read(r->master, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "A\rB\n", 4);
	assert_int_equal(write(r->master, "\rTCS", 4), 4);
	pfd.fd = qst_transport_fd(r->t);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(qst_transport_read(r->t, buf, sizeof(buf), NULL), 4);
	assert_memory_equal(buf, "\rTCS", 4);
	/* Nothing waiting is 0, not an error. */
	assert_int_equal(qst_transport_read(r->t, buf, sizeof(buf), NULL), 0);
	/* Far end not reading: the terminal's buffers fill, and what does
	 * not fit by the deadline is a timeout, not a hang. */
	size_t big_len = 1 << 20;
	char *big = calloc(1, big_len);
	assert_non_null(big);
	int64_t t0 = qst_monotonic_ns();
	assert_int_equal(qst_transport_write(r->t, big, big_len, 50),
			 QST_ERR_TIMEOUT);
	assert_true(qst_monotonic_ns() - t0 < 2 * QST_NS_PER_S);
	free(big);
}

static void test_tcs2_identifies_and_ramps(void **state)
{
	struct rig *r = *state;
	rig_open_driver(r);
	assert_string_equal(r->dev.info.serial, "SIM-PTY");
	const struct qst_thermal_ops *th = qst_dev_thermal(&r->dev);
	assert_int_equal(th->set_neutral(&r->dev, 32.0), QST_OK);
	r->n_ev = 0;
	assert_int_equal(th->ramp(&r->dev, 38.0, 30.0, 0.2, 30.0), QST_OK);
	rig_run(r, 700 * MS);
	assert_int_equal(r->last_read, 0);
	size_t n_temp = 0;
	double peak = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		if (r->ev[i].type != QST_EV_TEMPERATURE)
			continue;
		n_temp++;
		double s = 0;
		for (int z = 0; z < QST_THERMODE_ZONES; z++)
			s += r->ev[i].u.temp.zone_c[z];
		peak = fmax(peak, s / QST_THERMODE_ZONES);
	}
	/* 100 Hz while stimulating: 0.2 s rise, 0.2 s hold, 0.2 s back. */
	assert_in_range(n_temp, 40, 80);
	assert_true(peak > 37.5 && peak < 38.5);
}

/* The far end goes (the simulator's device unplugged): reads fail. */
static void test_master_closed_reads_io_error(void **state)
{
	struct rig *r = *state;
	rig_open_driver(r);
	qst_tcs2_sim_free(r->sim);
	r->sim = NULL;
	rig_run(r, 200 * MS);
	assert_int_equal(r->last_read, QST_ERR_IO);
	assert_int_equal(qst_transport_write(r->t, "?", 1, 50), QST_ERR_IO);
}

static void test_open_errors_say_why(void **state)
{
	(void)state;
	struct qst_transport *t = NULL;
	char err[256];
	assert_int_equal(qst_transport_serial_open("/dev/qst-no-such-port", NULL,
						   &t, err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_non_null(strstr(err, "no such port"));
	assert_null(t);
	assert_int_equal(qst_transport_serial_open("usb:12g4:0001", NULL, &t,
						   err, sizeof(err)), QST_ERR_ARG);
	assert_non_null(strstr(err, "usb:VID:PID"));
	assert_int_equal(qst_transport_serial_open("usb:1a86", NULL, &t, err,
						   sizeof(err)), QST_ERR_ARG);
	/* No such device here (the umock tests list a real match). */
	assert_int_equal(qst_transport_serial_open("usb:dead:beef:X1", NULL, &t,
						   err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_non_null(strstr(err, "dead:beef"));
	struct qst_serial_params bad = { .baud = 115200, .data_bits = 8,
					 .parity = 'X', .stop_bits = 1 };
	assert_int_equal(qst_transport_serial_open("/dev/null", &bad, &t, err,
						   sizeof(err)), QST_ERR_ARG);
	assert_non_null(strstr(err, "framing"));
	assert_null(t);
}

/* Open path as an unprivileged user would; 0 when refused with a
 * message naming permissions and the udev rule. */
static int refused_for_permission(const char *path)
{
	struct qst_transport *t = NULL;
	char err[256] = "";
	int ret = qst_transport_serial_open(path, NULL, &t, err, sizeof(err));
	if (t)
		qst_transport_close(t);
	if (ret != QST_ERR_IO || !strstr(err, "permission denied") ||
	    !strstr(err, "udev/60-qst.rules") || !strstr(err, "plugdev")) {
		fprintf(stderr, "got %d: %s\n", ret, err);
		return 1;
	}
	return 0;
}

/*
 * A port the user may not open says so and points at the udev rule
 * (docs/serial.md, "Permissions"). Root may open anything, so as root
 * the attempt is made by a child that became nobody.
 */
static void test_permission_denied_points_at_udev(void **state)
{
	struct rig *r = *state;
	assert_int_equal(chmod(r->path, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(refused_for_permission(r->path), 0);
		return;
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		_exit(refused_for_permission(r->path));
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pty_is_raw_and_described,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_tcs2_identifies_and_ramps,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_master_closed_reads_io_error,
						rig_setup, rig_teardown),
		cmocka_unit_test(test_open_errors_say_why),
		cmocka_unit_test_setup_teardown(test_permission_denied_points_at_udev,
						rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
