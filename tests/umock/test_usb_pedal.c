/*
 * The hidpedal driver over the real USB transport (libusb) against an
 * emulated Infinity IN-USB-2 pedal, 05f3:00ff (devices.md §7; emulation:
 * lib_usb.c after architecture.md "USB (libusb against an emulated
 * device...)"). Reports reach the driver in order, stamped on arrival by
 * the transport's event thread; a report of the wrong length is noise;
 * pulling the plug makes the transport read QST_ERR_IO.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib_usb.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_usb.h"

#define WAIT_NS (3 * QST_NS_PER_S)

/* Device descriptor, then configuration: one HID interface (class 3)
 * with one interrupt-IN endpoint 0x81, 8-byte packets, 10 ms. */
static const uint8_t pedal_descriptors[] = {
	0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0xf3, 0x05, 0xff,
	0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01,
	0x09, 0x02, 0x22, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,
	0x09, 0x04, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00,
	0x09, 0x21, 0x10, 0x01, 0x00, 0x01, 0x22, 0x20, 0x00,
	0x07, 0x05, 0x81, 0x03, 0x08, 0x00, 0x0a,
};

#define MAX_EVENTS 64

struct rig {
	UMockdevTestbed *tb;
	struct qst_umock_usb *usb;
	struct qst_transport *t;
	struct qst_dev dev;
	struct qst_event ev[MAX_EVENTS];
	size_t n_ev;
	int64_t last_arrival;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	assert_true(r->n_ev < MAX_EVENTS);
	r->ev[r->n_ev++] = *ev;
}

/* What the station's I/O loop does: poll the fd, read, hand to receive. */
static int pump(struct rig *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = qst_transport_fd(r->t), .events = POLLIN };
	assert_true(pfd.fd >= 0);
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return QST_OK;
	for (;;) {
		uint8_t buf[64];
		int64_t arrival = -1;
		ssize_t n = qst_transport_read(r->t, buf, sizeof(buf), &arrival);
		if (n <= 0)
			return (int)n;
		assert_true(arrival > 0);
		assert_true(arrival >= r->last_arrival);
		r->last_arrival = arrival;
		r->dev.driver->receive(&r->dev, buf, (size_t)n, arrival);
	}
}

static void run_until_events(struct rig *r, size_t want)
{
	int64_t end = qst_monotonic_ns() + WAIT_NS;
	while (r->n_ev < want && qst_monotonic_ns() < end)
		assert_int_equal(pump(r, 10), QST_OK);
	assert_int_equal(r->n_ev, want);
}

static void push_report(struct rig *r, uint16_t mask)
{
	uint8_t rep[2] = { (uint8_t)mask, (uint8_t)(mask >> 8) };
	qst_umock_usb_push_in(r->usb, rep, sizeof(rep));
}

static void expect_button(const struct rig *r, size_t i, int key,
			  bool pressed)
{
	assert_int_equal(r->ev[i].type, QST_EV_BUTTON);
	assert_int_equal(r->ev[i].u.button.key, key);
	assert_int_equal(r->ev[i].u.button.pressed, pressed);
	assert_int_equal(r->ev[i].u.button.device_rt_ms, -1);
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->tb = umockdev_testbed_new();
	assert_non_null(r->tb);
	struct qst_umock_usb_config cfg = {
		.busnum = 1,
		.devnum = 2,
		.descriptors = pedal_descriptors,
		.descriptors_len = sizeof(pedal_descriptors),
		.manufacturer = "VEC",
		.product = "VEC USB Footpedal",
		.serial = "PED0001",
	};
	r->usb = qst_umock_usb_add(r->tb, &cfg);
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	if (r->dev.priv)
		r->dev.driver->close(&r->dev);
	qst_transport_close(r->t);
	qst_umock_usb_free(r->usb);
	g_object_unref(r->tb);
	free(r);
	return 0;
}

static void test_bad_specs(void **state)
{
	(void)state;
	struct qst_transport *t = NULL;
	char err[128];
	assert_int_equal(qst_transport_usb_open("05f3", QST_USB_INTERRUPT_IN,
						&t, err, sizeof(err)),
			 QST_ERR_ARG);
	assert_int_equal(qst_transport_usb_open("05f3:zz", QST_USB_INTERRUPT_IN,
						&t, err, sizeof(err)),
			 QST_ERR_ARG);
	assert_int_equal(qst_transport_usb_open("05f3:00ff:OTHER",
						QST_USB_INTERRUPT_IN, &t, err,
						sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_non_null(strstr(err, "OTHER"));
	assert_int_equal(qst_transport_usb_open("05f3:0100", QST_USB_INTERRUPT_IN,
						&t, err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	/* A pedal has no USB-TMC interface. */
	assert_int_equal(qst_transport_usb_open("05f3:00ff", QST_USB_TMC, &t, err,
						sizeof(err)),
			 QST_ERR_UNSUPPORTED);
	assert_null(t);
}

static void test_enumerate(void **state)
{
	(void)state;
	struct qst_usb_info info[8];
	int n = qst_usb_enumerate(info, 8);
	assert_int_equal(n, 1);
	assert_int_equal(info[0].vid, 0x05f3);
	assert_int_equal(info[0].pid, 0x00ff);
	assert_int_equal(info[0].bus, 1);
	assert_int_equal(info[0].address, 2);
	assert_true(info[0].hid);
	assert_false(info[0].usbtmc);
	assert_string_equal(info[0].serial, "PED0001");
	assert_string_equal(info[0].product, "VEC USB Footpedal");
	assert_int_equal(qst_usb_enumerate(info, 0), 0);
	assert_int_equal(qst_usb_enumerate(NULL, 1), QST_ERR_ARG);
}

static void test_presses_in_order(void **state)
{
	struct rig *r = *state;
	char err[128] = "";
	int ret = qst_transport_usb_open("05f3:00FF:PED0001",
					 QST_USB_INTERRUPT_IN, &r->t, err,
					 sizeof(err));
	if (ret != QST_OK)
		fail_msg("open: %s (%s)", qst_strerror(ret), err);
	assert_non_null(strstr(r->t->description, "usb:05f3:00ff"));
	assert_non_null(strstr(r->t->description, "VEC USB Footpedal"));
	assert_int_equal(qst_umock_usb_claimed(r->usb), 1);
	assert_int_equal(qst_transport_write(r->t, "x", 1, 10),
			 QST_ERR_UNSUPPORTED);

	r->dev.driver = qst_driver_find("hidpedal");
	assert_non_null(r->dev.driver);
	r->dev.transport = r->t;
	r->dev.index = 4;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	assert_true(r->dev.driver->ready(&r->dev));
	assert_non_null(strstr(r->dev.info.model, "05f3:00ff"));
	assert_int_equal(qst_dev_response(&r->dev)->reset_timer(&r->dev), QST_OK);

	int64_t before = qst_monotonic_ns();
	push_report(r, 0x0001); /* left down */
	push_report(r, 0x0000); /* left up */
	push_report(r, 0x0004); /* right down */
	push_report(r, 0x0000);
	run_until_events(r, 4);
	expect_button(r, 0, 1, true);
	expect_button(r, 1, 1, false);
	expect_button(r, 2, 3, true);
	expect_button(r, 3, 3, false);
	for (size_t i = 0; i < 4; i++) {
		assert_true(r->ev[i].t_ns >= before);
		assert_true(r->ev[i].t_ns <= qst_monotonic_ns());
		assert_int_equal(r->ev[i].device, 4);
		if (i > 0)
			assert_true(r->ev[i].t_ns >= r->ev[i - 1].t_ns);
	}
}

static void test_combinations_and_noise(void **state)
{
	struct rig *r = *state;
	assert_non_null(r->t);
	r->n_ev = 0;
	push_report(r, 0x0003); /* left + middle together */
	const uint8_t odd[3] = { 0x07, 0x00, 0x00 };
	qst_umock_usb_push_in(r->usb, odd, sizeof(odd));
	push_report(r, 0x0006); /* left up, right down, middle held */
	push_report(r, 0x0000);
	run_until_events(r, 7);
	expect_button(r, 0, 1, true);
	expect_button(r, 1, 2, true);
	assert_int_equal(r->ev[2].type, QST_EV_LINK_NOISE);
	assert_int_equal(r->ev[2].u.noise_bytes, 3);
	expect_button(r, 3, 1, false);
	expect_button(r, 4, 3, true);
	expect_button(r, 5, 2, false);
	expect_button(r, 6, 3, false);
	assert_int_equal(qst_umock_usb_in_queued(r->usb), 0);
}

static void test_unplug_reads_io_error(void **state)
{
	struct rig *r = *state;
	assert_non_null(r->t);
	qst_umock_usb_unplug(r->usb);
	int64_t end = qst_monotonic_ns() + WAIT_NS;
	int ret = QST_OK;
	while (ret == QST_OK && qst_monotonic_ns() < end)
		ret = pump(r, 10);
	assert_int_equal(ret, QST_ERR_IO);
	/* And from then on, with the fd staying readable so a loop learns. */
	struct pollfd pfd = { .fd = qst_transport_fd(r->t), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 1);
	uint8_t buf[8];
	assert_int_equal(qst_transport_read(r->t, buf, sizeof(buf), NULL),
			 QST_ERR_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_enumerate),
		cmocka_unit_test(test_presses_in_order),
		cmocka_unit_test(test_combinations_and_noise),
		cmocka_unit_test(test_unplug_reads_io_error),
	};
	return cmocka_run_group_tests(tests, rig_setup, rig_teardown);
}
