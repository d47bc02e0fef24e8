/*
 * End to end over real transports (issue 5): the simulated TCS II and XID
 * pad, with the virtual participant between them (qst_simrig.h), serve
 * their wire protocols on the far ends of two umockdev-emulated USB-serial
 * ports; the real `qst run --station` opens those ports through
 * libserialport, one by path and one by VID:PID:serial, on the real clock.
 * The same protocol with the same seed on the in-process simulation must
 * give the same trials and thresholds (tests/python/compare_sessions.py).
 * Then the thermode's link is hung up in the middle of a ramp: the session
 * stops safely, names the device, and keeps every completed trial.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib_serial.h"
#include "qst_core.h"
#include "qst_simrig.h"

#define SEED "5"
/* The real clock moves ramps and samples by a few ms: at 1 °C/s that is
 * a few thousandths of a degree, plus the readback noise (0.02 °C SD). */
#define TOLERANCE_C "0.1"

static const struct qst_umock_port tcs_port = {
	.name = "ttyACM0", .vid = 0x1a86, .pid = 0x7523, .serial = "SIM0001",
	.manufacturer = "QST.Lab", .product = "TCS II", .driver = "cdc_acm",
};
static const struct qst_umock_port xid_port = {
	.name = "ttyUSB0", .vid = 0x0403, .pid = 0x6001, .serial = "FT5XID",
	.manufacturer = "FTDI", .product = "FT232R USB UART",
	.driver = "ftdi_sio",
};

struct bench {
	UMockdevTestbed *tb;
	struct qst_simrig *rig;
	pthread_t thread;
	volatile bool stop;
	int64_t origin;
	char dir[64];
};

static void *serve(void *arg)
{
	struct bench *b = arg;
	qst_simrig_serve(b->rig, b->origin, &b->stop);
	return NULL;
}

static void start_rig(struct bench *b)
{
	b->tb = qst_umock_testbed();
	assert_non_null(b->tb);
	int fds[QST_SIMRIG_SLOTS];
	for (int s = 0; s < QST_SIMRIG_SLOTS; s++)
		fds[s] = -1;
	fds[QST_SIMRIG_THERMAL] = qst_umock_add_port(b->tb, 1, &tcs_port, NULL, 0);
	fds[QST_SIMRIG_RESPONSE] = qst_umock_add_port(b->tb, 2, &xid_port, NULL, 0);
	assert_true(fds[QST_SIMRIG_THERMAL] >= 0 && fds[QST_SIMRIG_RESPONSE] >= 0);
	struct qst_simrig_config cfg = { .seed = strtoull(SEED, NULL, 10) };
	assert_int_equal(qst_participant_profile_builtin("healthy",
							 &cfg.participant), QST_OK);
	char err[256];
	b->origin = qst_monotonic_ns();
	assert_int_equal(qst_simrig_new(&cfg, fds, 0, &b->rig, err, sizeof(err)),
			 QST_OK);
	snprintf(b->dir, sizeof(b->dir), "/tmp/qst-e2e.XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	char link[128];
	snprintf(link, sizeof(link), "%s/participant", b->dir);
	if (qst_simrig_listen(b->rig, link, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	b->stop = false;
	assert_int_equal(pthread_create(&b->thread, NULL, serve, b), 0);
}

static void stop_rig(struct bench *b)
{
	b->stop = true;
	pthread_join(b->thread, NULL);
	qst_simrig_free(b->rig);
	g_object_unref(b->tb);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", b->dir);
	assert_int_equal(system(cmd), 0);
}

/* Run a command line through sh; its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	print_message("$ %s\n", cmd);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	if (!v)
		fail_msg("%s is not set (run through ctest)", name);
	return v;
}

static void write_station(const struct bench *b)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/station.lua", b->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "return { name = \"e2e\", roles = {\n"
		   "  thermal = { driver = \"tcs2\", port = \"/dev/ttyACM0\" },\n"
		   "  response = { driver = \"xid\", usb = \"0403:6001:FT5XID\" },\n"
		   "  pressure = { driver = \"none\" }, vibration = { driver = \"none\" },\n"
		   "  rating = { driver = \"none\" }, sync = { driver = \"none\" } } }\n");
	fclose(f);
}

#define ID "--subject E2E01 --sex F --age 35 --site hand --seed " SEED

static void same_thresholds_as_in_process(void **state)
{
	struct bench *b = *state;
	const char *qst = env("QST"), *src = env("QST_SRC");
	write_station(b);
	assert_int_equal(sh("%s run %s/tests/scripts/e2e_thermal.lua --station "
			    "%s/station.lua --participant-link %s/participant " ID
			    " --out %s/ports.h5 > %s/ports.log 2>&1 || { cat "
			    "%s/ports.log; exit 1; }", qst, src, b->dir, b->dir,
			    b->dir, b->dir, b->dir), 0);
	assert_int_equal(sh("%s run %s/tests/scripts/e2e_thermal.lua --clock "
			    "virtual " ID " --out %s/inproc.h5 > /dev/null", qst,
			    src, b->dir), 0);
	assert_int_equal(sh("%s %s/tests/python/compare_sessions.py %s/ports.h5 "
			    "%s/inproc.h5 " TOLERANCE_C, env("PYTHON"), src, b->dir,
			    b->dir), 0);
	/* The file names the real transports it used. */
	assert_int_equal(sh("%s -c \"import h5py,sys; t=[x.decode() for x in "
			    "h5py.File('%s/ports.h5')['devices/transport'][()]]; "
			    "print(t); sys.exit(0 if any('ttyACM0' in x for x in t) "
			    "else 1)\"", env("PYTHON"), b->dir), 0);
}

static int setup(void **state)
{
	static struct bench b;
	start_rig(&b);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	stop_rig(*state);
	return 0;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(same_thresholds_as_in_process,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
