/*
 * `qst devices` and `qst devices --probe` on emulated hardware (issue 5;
 * docs/serial.md, architecture.md "Testing the device layer without
 * hardware"). Three USB-serial ports: a TCS II's CH340 (1a86:7523)
 * answered by the simulated thermode, an FTDI bridge (0403:6001) answered
 * by the simulated XID pad, and a second FTDI bridge with nothing behind
 * it; plus an Infinity pedal (05f3:00ff) on emulated usbfs. The real qst
 * binary lists each with its VID:PID, serial and candidate drivers; the
 * probe identifies the two simulators, names the timeout on the silent
 * port and opens the pedal.
 */
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
#include "lib_usb.h"
#include "qst_core.h"
#include "qst_sim.h"

/* The thermode's own serial, distinct from its bridge's USB serial. */
#define TCS_PROBE_ID "TCS-PROBE-7"

static const struct qst_umock_port tcs_port = {
	.name = "ttyUSB0", .vid = 0x1a86, .pid = 0x7523, .serial = "SIM0001",
	.manufacturer = "QST.Lab", .product = "TCS II", .driver = "ch341",
};
static const struct qst_umock_port xid_port = {
	.name = "ttyUSB1", .vid = 0x0403, .pid = 0x6001, .serial = "FT5XID",
	.manufacturer = "FTDI", .product = "FT232R USB UART",
	.driver = "ftdi_sio",
};
static const struct qst_umock_port silent_port = {
	.name = "ttyUSB2", .vid = 0x0403, .pid = 0x6001, .serial = "FTQUIET",
	.manufacturer = "FTDI", .product = "FT232R USB UART",
	.driver = "ftdi_sio",
};

/* The pedal as test_usb_pedal.c has it: one HID interface with one
 * interrupt-IN endpoint 0x81 (devices.md "USB HID foot pedal"). */
static const uint8_t pedal_descriptors[] = {
	0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0xf3, 0x05, 0xff,
	0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01,
	0x09, 0x02, 0x22, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,
	0x09, 0x04, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00,
	0x09, 0x21, 0x10, 0x01, 0x00, 0x01, 0x22, 0x20, 0x00,
	0x07, 0x05, 0x81, 0x03, 0x08, 0x00, 0x0a,
};

struct bench {
	UMockdevTestbed *tb;
	struct qst_umock_usb *pedal;
	struct qst_tcs2_sim *tcs;
	struct qst_xid_sim *xid;
	int silent_fd;       /* held open, never answered */
	pthread_t thread;
	volatile bool stop;
	int64_t origin;
	char dir[64];
};

/* Both simulators answer within a millisecond or two, as the devices do. */
static void *serve(void *arg)
{
	struct bench *b = arg;
	while (!b->stop) {
		int64_t t = qst_monotonic_ns() - b->origin;
		qst_tcs2_sim_step(b->tcs, t);
		qst_xid_sim_step(b->xid, t);
		usleep(1000);
	}
	return NULL;
}

/* Run `qst devices ARGS`, echo and return its stdout (caller frees). */
static char *qst_devices(struct bench *b, const char *args)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/devices.out", b->dir);
	int rc = qst_umock_sh("%s devices %s > %s 2> %s/devices.err", qst_umock_env("QST"), args,
		    path, b->dir);
	qst_umock_sh("cat %s %s/devices.err", path, b->dir);
	assert_int_equal(rc, 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char text[16384];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return strdup(text);
}

/*
 * The lines under the device whose listing line has all of heads: up to
 * the next device (the next line indented by exactly two spaces) or the
 * next heading. Fails when no line or more than one line matches.
 */
static void block_of(const char *text, const char *head1, const char *head2,
		     char *out, size_t cap)
{
	const char *found = NULL;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[512];
		snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
		if (!strncmp(buf, "  ", 2) && buf[2] != ' ' && strstr(buf, head1) &&
		    (!head2 || strstr(buf, head2))) {
			if (found)
				fail_msg("two devices match '%s'", head1);
			found = line;
		}
		line = end ? end + 1 : line + len;
	}
	if (!found)
		fail_msg("no device line with '%s'%s%s", head1, head2 ? " and " : "",
			 head2 ? head2 : "");
	const char *end = strchr(found, '\n');
	const char *p = end ? end + 1 : found + strlen(found);
	while (*p && !strncmp(p, "    ", 4)) {
		const char *e = strchr(p, '\n');
		p = e ? e + 1 : p + strlen(p);
	}
	snprintf(out, cap, "%.*s", (int)(p - found), found);
}

static void expect_in(const char *block, const char *want)
{
	if (!strstr(block, want))
		fail_msg("expected '%s' in:\n%s", want, block);
}

static int setup(void **state)
{
	static struct bench b;
	memset(&b, 0, sizeof(b));
	b.tb = qst_umock_testbed();
	assert_non_null(b.tb);
	int tcs_fd = qst_umock_add_port(b.tb, 1, &tcs_port, NULL, 0);
	int xid_fd = qst_umock_add_port(b.tb, 2, &xid_port, NULL, 0);
	b.silent_fd = qst_umock_add_port(b.tb, 3, &silent_port, NULL, 0);
	assert_true(tcs_fd >= 0 && xid_fd >= 0 && b.silent_fd >= 0);
	struct qst_umock_usb_config ucfg = {
		.busnum = 2,
		.devnum = 1,
		.descriptors = pedal_descriptors,
		.descriptors_len = sizeof(pedal_descriptors),
		.manufacturer = "VEC",
		.product = "VEC USB Footpedal",
		.serial = "PED0001",
	};
	b.pedal = qst_umock_usb_add(b.tb, &ucfg);
	struct qst_tcs2_sim_config tcfg = {
		.initial_c = 32.0, .lag_s = 0.05, .noise_sd_c = 0.02, .seed = 1,
		.serial = TCS_PROBE_ID,
	};
	assert_int_equal(qst_tcs2_sim_new(tcs_fd, &tcfg, 0, &b.tcs), QST_OK);
	assert_int_equal(qst_xid_sim_new(xid_fd, 0, &b.xid), QST_OK);
	snprintf(b.dir, sizeof(b.dir), "/tmp/qst-probe.XXXXXX");
	assert_non_null(mkdtemp(b.dir));
	b.origin = qst_monotonic_ns();
	assert_int_equal(pthread_create(&b.thread, NULL, serve, &b), 0);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	struct bench *b = *state;
	b->stop = true;
	pthread_join(b->thread, NULL);
	/* The simulators close the far ends they were given. */
	qst_tcs2_sim_free(b->tcs);
	qst_xid_sim_free(b->xid);
	close(b->silent_fd);
	qst_umock_usb_free(b->pedal);
	g_object_unref(b->tb);
	assert_int_equal(qst_umock_sh("rm -rf %s", b->dir), 0);
	return 0;
}

/* Without --probe: every device with its identity and candidates, and
 * nothing opened. */
static void lists_ports_and_candidates(void **state)
{
	struct bench *b = *state;
	char *out = qst_devices(b, "");
	char blk[2048];

	expect_in(out, "serial ports: 3\n");
	block_of(out, "/dev/ttyUSB0", NULL, blk, sizeof(blk));
	expect_in(blk, "1a86:7523 serial \"SIM0001\"");
	expect_in(blk, "    drivers: tcs2\n");
	block_of(out, "/dev/ttyUSB1", NULL, blk, sizeof(blk));
	expect_in(blk, "0403:6001 serial \"FT5XID\"");
	expect_in(blk, "    drivers: xid\n");
	block_of(out, "/dev/ttyUSB2", NULL, blk, sizeof(blk));
	expect_in(blk, "0403:6001 serial \"FTQUIET\"");
	expect_in(blk, "    drivers: xid\n");
	block_of(out, "05f3:00ff", NULL, blk, sizeof(blk));
	expect_in(blk, "serial \"PED0001\"");
	expect_in(blk, "[HID]");
	expect_in(blk, "    drivers: hidpedal\n");
	assert_null(strstr(out, " yes"));
	assert_null(strstr(out, " no:"));
	free(out);
}

/* With --probe: the simulators identify themselves, the silent port
 * times out by name, the pedal opens. */
static void probe_identifies_each(void **state)
{
	struct bench *b = *state;
	char *out = qst_devices(b, "--probe");
	char blk[2048];

	block_of(out, "/dev/ttyUSB0", NULL, blk, sizeof(blk));
	expect_in(blk, "tcs2       yes: QST.Lab TCS II, serial " TCS_PROBE_ID
		       ", firmware 900 qst simulator\n");
	block_of(out, "/dev/ttyUSB1", NULL, blk, sizeof(blk));
	expect_in(blk, "xid        yes: Cedrus XID response pad, no serial "
		       "number reported, firmware XID mode\n");
	block_of(out, "/dev/ttyUSB2", NULL, blk, sizeof(blk));
	expect_in(blk, "xid        no: no answer within 3 s");
	expect_in(blk, "/dev/ttyUSB2");
	assert_null(strstr(blk, "yes"));
	block_of(out, "05f3:00ff", NULL, blk, sizeof(blk));
	expect_in(blk, "hidpedal   yes: usb:05f3:00ff VEC VEC USB Footpedal");
	expect_in(blk, "firmware HID\n");
	/* Identification only: no stimulus reached the thermode. */
	assert_false(qst_tcs2_sim_stimulating(b->tcs));
	free(out);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lists_ports_and_candidates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(probe_identifies_each, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
