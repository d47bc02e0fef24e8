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

#include "lib_proc.h"
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

/* Faults land 9 s into the session's first HPT ramp (rig clock: the
 * session starts about a second after the rig). */
#define FAULT_AT_S 40.0

struct bench {
	UMockdevTestbed *tb;
	struct qst_sim_fault fault;  /* the thermode's, kind NONE: healthy */
	bool unplug;                 /* hang the thermode's tty up at FAULT_AT_S */
	pthread_t unplugger;
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

static void *unplug_later(void *arg);
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
	cfg.faults[QST_SIMRIG_THERMAL] = b->fault;
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
	if (b->unplug)
		assert_int_equal(pthread_create(&b->unplugger, NULL, unplug_later, b), 0);
}

/* A USB-serial unplug: the simulator's end goes (the sim's disconnect
 * fault), then the tty hangs up as the kernel does when the bridge goes. */
static void *unplug_later(void *arg)
{
	struct bench *b = arg;
	int64_t due = b->origin + qst_s_to_ns(FAULT_AT_S + 0.2);
	while (qst_monotonic_ns() < due && !b->stop)
		usleep(10000);
	if (!b->stop && qst_umock_hangup(b->tb, "/dev/ttyACM0") < 0)
		print_error("hangup failed\n");
	return NULL;
}

static void stop_rig(struct bench *b)
{
	b->stop = true;
	if (b->unplug)
		pthread_join(b->unplugger, NULL);
	pthread_join(b->thread, NULL);
	qst_simrig_free(b->rig);
	g_object_unref(b->tb);
	if (!getenv("QST_E2E_KEEP"))
		assert_int_equal(qst_umock_sh("rm -rf %s", b->dir), 0);
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
	const char *qst = qst_umock_env("QST"), *src = qst_umock_env("QST_SRC");
	write_station(b);
	assert_int_equal(qst_umock_sh("%s run %s/tests/scripts/e2e_thermal.lua --station "
			    "%s/station.lua --participant-link %s/participant " ID
			    " --out %s/ports.h5 > %s/ports.log 2>&1 || { cat "
			    "%s/ports.log; exit 1; }", qst, src, b->dir, b->dir,
			    b->dir, b->dir, b->dir), 0);
	assert_int_equal(qst_umock_sh("%s run %s/tests/scripts/e2e_thermal.lua --clock "
			    "virtual " ID " --out %s/inproc.h5 > /dev/null", qst,
			    src, b->dir), 0);
	assert_int_equal(qst_umock_sh("%s %s/tests/python/compare_sessions.py %s/ports.h5 "
			    "%s/inproc.h5 " TOLERANCE_C, qst_umock_env("PYTHON"), src, b->dir,
			    b->dir), 0);
	/* The file names the real transports it used. */
	assert_int_equal(qst_umock_sh("%s -c \"import h5py,sys; t=[x.decode() for x in "
			    "h5py.File('%s/ports.h5')['devices/transport'][()]]; "
			    "print(t); sys.exit(0 if any('ttyACM0' in x for x in t) "
			    "else 1)\"", qst_umock_env("PYTHON"), b->dir), 0);
}

/*
 * A fault during a ramp over the real ports: the session ends with a
 * device error (exit 4), the operator reads one line naming the thermode
 * and the fault, the abort goes out first, and the file keeps every
 * completed trial as the in-process run has it.
 */
static void fault_during_ramp(struct bench *b, const char *regex)
{
	const char *qst = qst_umock_env("QST"), *src = qst_umock_env("QST_SRC");
	write_station(b);
	int rc = qst_umock_sh("%s run %s/tests/scripts/e2e_thermal.lua --station "
		    "%s/station.lua --participant-link %s/participant " ID
		    " --wire-log %s/run.wire --out %s/run.h5 > %s/run.log 2>&1",
		    qst, src, b->dir, b->dir, b->dir, b->dir, b->dir);
	qst_umock_sh("cat %s/run.log", b->dir);
	assert_int_equal(rc, 4);
	assert_int_equal(qst_umock_sh("grep -Eq 'DEVICE FAULT: .*%s' %s/run.log", regex,
			    b->dir), 0);
	assert_int_equal(qst_umock_sh("%s run %s/tests/scripts/e2e_thermal.lua --clock "
			    "virtual " ID " --out %s/inproc.h5 > /dev/null", qst,
			    src, b->dir), 0);
	assert_int_equal(qst_umock_sh("cd %s/tests/python && %s compare_sessions.py "
			    "%s/run.h5 %s/inproc.h5 " TOLERANCE_C " --fault '.*%s.*' "
			    "%s/run.wire", src, qst_umock_env("PYTHON"), b->dir, b->dir, regex,
			    b->dir), 0);
}

static void stall_during_ramp(void **state)
{
	fault_during_ramp(*state, "no thermode readback for");
}

static void garbage_during_ramp(void **state)
{
	fault_during_ramp(*state, "thermode");
}

static void unplug_during_ramp(void **state)
{
	fault_during_ramp(*state, "thermode link lost");
}

static int setup_with(void **state, enum qst_sim_fault_kind kind, bool unplug)
{
	static struct bench b;
	memset(&b, 0, sizeof(b));
	b.fault = (struct qst_sim_fault){ .kind = kind,
					  .at_ns = qst_s_to_ns(FAULT_AT_S) };
	b.unplug = unplug;
	start_rig(&b);
	*state = &b;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, QST_SIM_FAULT_NONE, false);
}

static int setup_stall(void **state)
{
	return setup_with(state, QST_SIM_FAULT_STALL, false);
}

static int setup_garbage(void **state)
{
	return setup_with(state, QST_SIM_FAULT_GARBAGE, false);
}

static int setup_unplug(void **state)
{
	return setup_with(state, QST_SIM_FAULT_DISCONNECT, true);
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
		cmocka_unit_test_setup_teardown(stall_during_ramp, setup_stall,
						teardown),
		cmocka_unit_test_setup_teardown(garbage_during_ramp, setup_garbage,
						teardown),
		cmocka_unit_test_setup_teardown(unplug_during_ramp, setup_unplug,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
