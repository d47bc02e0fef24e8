/*
 * The unchanged fgen driver over the USB transport in USB-TMC mode,
 * against an emulated USB-TMC function generator whose SCPI brain is the
 * simulator (drivers/sim/fgen_sim.c). The bridge plays the instrument's
 * USB-TMC layer (devices.md "USB-TMC framing"): DEV_DEP_MSG_OUT payloads
 * go into a socketpair the simulator reads; after a REQUEST_DEV_DEP_MSG_IN
 * the simulator's next reply line goes back on bulk-IN behind a
 * DEV_DEP_MSG_IN header with the request's bTag. The driver identifies,
 * sets a sine, switches the output, and the simulator's state agrees.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib_usb.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_sim.h"
#include "qst_usb.h"
#include "usbtmc.h"

#define WAIT_NS (3 * QST_NS_PER_S)
#define EP_OUT 0x01
#define EP_IN 0x82

/*
 * Device 0957:2c07, then a configuration with one USB-TMC interface
 * (class FE, subclass 03, protocol 01 = USB488): bulk OUT 0x01, bulk IN
 * 0x82, and the USB488 interrupt-IN 0x83 the transport must not pick.
 */
static const uint8_t tmc_descriptors[] = {
	0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x57, 0x09, 0x07,
	0x2c, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01,
	0x09, 0x02, 0x27, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,
	0x09, 0x04, 0x00, 0x00, 0x03, 0xfe, 0x03, 0x01, 0x00,
	0x07, 0x05, 0x83, 0x03, 0x02, 0x00, 0x01,
	0x07, 0x05, 0x01, 0x02, 0x40, 0x00, 0x00,
	0x07, 0x05, 0x82, 0x02, 0x40, 0x00, 0x00,
};

/* ------------------------------------------------- USB-TMC ↔ simulator */

#define REQ_MAX 64

struct bridge {
	pthread_mutex_t lock;
	int fd;                 /* our end of the simulator's socketpair */
	uint8_t req_tag[REQ_MAX];
	size_t n_req;
	char rx[1024];          /* simulator output not yet sent on */
	size_t rx_len;
	unsigned long msg_outs, requests, replies, bad;
	uint8_t last_tag;
	bool tags_ok;           /* every bTag was the previous one + 1 */
	bool corrupt_next;      /* answer the next request with a wrong bTag */
};

static void check_tag(struct bridge *b, uint8_t tag)
{
	if (b->last_tag && tag != qst_usbtmc_next_tag(b->last_tag))
		b->tags_ok = false;
	b->last_tag = tag;
}

static void write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			poll(&pfd, 1, 100);
			continue;
		}
		if (n <= 0)
			abort();
		p += n;
		len -= (size_t)n;
	}
}

static void on_out(void *user, uint8_t ep, const uint8_t *data, size_t len)
{
	struct bridge *b = user;
	struct qst_usbtmc_header h;
	pthread_mutex_lock(&b->lock);
	if (ep != EP_OUT || qst_usbtmc_decode_header(data, len, &h) < 0) {
		b->bad++;
	} else if (h.msg_id == QST_USBTMC_DEV_DEP_MSG_OUT &&
		   h.size <= len - QST_USBTMC_HEADER_LEN &&
		   len % 4 == 0 && (h.attributes & QST_USBTMC_ATTR_EOM)) {
		check_tag(b, h.tag);
		b->msg_outs++;
		write_all(b->fd, data + QST_USBTMC_HEADER_LEN, h.size);
	} else if (h.msg_id == QST_USBTMC_REQUEST_DEV_DEP_MSG_IN &&
		   len == QST_USBTMC_HEADER_LEN && b->n_req < REQ_MAX) {
		check_tag(b, h.tag);
		b->requests++;
		b->req_tag[b->n_req++] = h.tag;
	} else {
		b->bad++;
	}
	pthread_mutex_unlock(&b->lock);
}

/* One reply line per request, as an instrument's output queue gives. */
static size_t on_in(void *user, uint8_t ep, uint8_t *buf, size_t cap)
{
	struct bridge *b = user;
	size_t out = 0;
	pthread_mutex_lock(&b->lock);
	ssize_t n = read(b->fd, b->rx + b->rx_len, sizeof(b->rx) - b->rx_len);
	if (n > 0)
		b->rx_len += (size_t)n;
	char *nl = memchr(b->rx, '\n', b->rx_len);
	if (ep == EP_IN && b->n_req > 0 && nl) {
		size_t line = (size_t)(nl - b->rx) + 1;
		uint8_t tag = b->req_tag[0];
		if (b->corrupt_next)
			tag = qst_usbtmc_next_tag((uint8_t)(tag + 100));
		b->corrupt_next = false;
		int m = qst_usbtmc_encode(buf, cap, QST_USBTMC_DEV_DEP_MSG_IN,
					  tag, b->rx, line, true);
		if (m > 0) {
			out = (size_t)m;
			memmove(b->req_tag, b->req_tag + 1, --b->n_req);
			memmove(b->rx, b->rx + line, b->rx_len - line);
			b->rx_len -= line;
			b->replies++;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return out;
}

/* ------------------------------------------------------------- rig */

#define MAX_EVENTS 256

struct rig {
	UMockdevTestbed *tb;
	struct qst_umock_usb *usb;
	struct bridge bridge;
	struct qst_fgen_sim *sim;
	int sim_fd;
	int64_t t0;
	struct qst_transport *t;
	struct qst_dev dev;
	struct qst_event ev[MAX_EVENTS];
	size_t n_ev;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	assert_true(r->n_ev < MAX_EVENTS);
	r->ev[r->n_ev++] = *ev;
}

/* The station's loop on the real clock: step the simulator, poll, read. */
static void pump(struct rig *r)
{
	qst_fgen_sim_step(r->sim, qst_monotonic_ns() - r->t0);
	struct pollfd pfd = { .fd = qst_transport_fd(r->t), .events = POLLIN };
	if (poll(&pfd, 1, 2) <= 0)
		return;
	for (;;) {
		uint8_t buf[256];
		int64_t arrival = -1;
		ssize_t n = qst_transport_read(r->t, buf, sizeof(buf), &arrival);
		assert_true(n >= 0);
		if (n == 0)
			return;
		assert_true(arrival > 0);
		r->dev.driver->receive(&r->dev, buf, (size_t)n, arrival);
	}
}

static int count_text(const struct rig *r, size_t from, const char *text)
{
	int n = 0;
	for (size_t i = from; i < r->n_ev; i++)
		n += r->ev[i].type == QST_EV_DEVICE_TEXT &&
		     strcmp(r->ev[i].u.text, text) == 0;
	return n;
}

static int count_type(const struct rig *r, enum qst_event_type type)
{
	int n = 0;
	for (size_t i = 0; i < r->n_ev; i++)
		n += r->ev[i].type == type;
	return n;
}

/*
 * Until `ones` replies "1" have come since event from: the *OPC? barrier
 * closing an operation, plus an OUTP? read-back of "1" before it.
 */
static void run_until_ones(struct rig *r, size_t from, int ones)
{
	int64_t end = qst_monotonic_ns() + WAIT_NS;
	while (count_text(r, from, "1") < ones && qst_monotonic_ns() < end)
		pump(r);
	assert_int_equal(count_text(r, from, "1"), ones);
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
			 0);
	r->sim_fd = sv[0];
	r->bridge.fd = sv[1];
	r->bridge.tags_ok = true;
	pthread_mutex_init(&r->bridge.lock, NULL);
	r->t0 = qst_monotonic_ns();
	assert_int_equal(qst_fgen_sim_new(r->sim_fd, 0, &r->sim), QST_OK);
	r->tb = umockdev_testbed_new();
	assert_non_null(r->tb);
	struct qst_umock_usb_config cfg = {
		.busnum = 1,
		.devnum = 5,
		.descriptors = tmc_descriptors,
		.descriptors_len = sizeof(tmc_descriptors),
		.manufacturer = "qst",
		.product = "SIM-FGEN USB-TMC",
		.serial = "SIM-FG-0001",
		.on_out = on_out,
		.on_in = on_in,
		.user = &r->bridge,
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
	qst_fgen_sim_free(r->sim);
	close(r->sim_fd);
	close(r->bridge.fd);
	pthread_mutex_destroy(&r->bridge.lock);
	free(r);
	return 0;
}

static void test_enumerate_lists_usbtmc(void **state)
{
	(void)state;
	struct qst_usb_info info[4];
	int n = qst_usb_enumerate(info, 4);
	assert_int_equal(n, 1);
	assert_int_equal(info[0].vid, 0x0957);
	assert_int_equal(info[0].pid, 0x2c07);
	assert_int_equal(info[0].address, 5);
	assert_true(info[0].usbtmc);
	assert_false(info[0].hid);
	assert_string_equal(info[0].manufacturer, "qst");
	assert_string_equal(info[0].product, "SIM-FGEN USB-TMC");
	assert_string_equal(info[0].serial, "SIM-FG-0001");
}

static void test_open_identifies(void **state)
{
	struct rig *r = *state;
	char err[128] = "";
	/* The interface also has the USB488 interrupt-IN 0x83; the TMC
	 * kind must take the bulk pair. */
	int ret = qst_transport_usb_open("0957:2c07:SIM-FG-0001", QST_USB_TMC,
					 &r->t, err, sizeof(err));
	if (ret != QST_OK)
		fail_msg("open: %s (%s)", qst_strerror(ret), err);
	r->dev.driver = qst_driver_find("fgen");
	assert_non_null(r->dev.driver);
	r->dev.transport = r->t;
	r->dev.index = 1;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	int64_t end = qst_monotonic_ns() + WAIT_NS;
	while (!r->dev.driver->ready(&r->dev) && qst_monotonic_ns() < end)
		pump(r);
	assert_true(r->dev.driver->ready(&r->dev));
	assert_string_equal(r->dev.info.model, "qst SIM-FGEN shaker driver");
	assert_string_equal(r->dev.info.serial, "SIM-FG-0001");
	assert_string_equal(r->dev.info.firmware, "1.0");
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 0.0);
	/* The identity line reached the driver bare: no header bytes. */
	assert_int_equal(r->ev[0].type, QST_EV_DEVICE_TEXT);
	assert_string_equal(r->ev[0].u.text,
			    "qst,SIM-FGEN shaker driver,SIM-FG-0001,1.0");
}

static void test_sine_and_output(void **state)
{
	struct rig *r = *state;
	assert_true(r->dev.priv && r->dev.driver->ready(&r->dev));
	const struct qst_vibration_ops *vib = qst_dev_vibration(&r->dev);
	assert_non_null(vib);

	size_t from = r->n_ev;
	assert_int_equal(vib->set_sine(&r->dev, 125, 2.0), QST_OK);
	run_until_ones(r, from, 1);
	assert_true(qst_fgen_sim_frequency_hz(r->sim) == 125.0);
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 0.0); /* still off */

	from = r->n_ev;
	assert_int_equal(vib->output(&r->dev, true), QST_OK);
	run_until_ones(r, from, 2); /* OUTP? "1", *OPC? "1" */
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 2.0);
	assert_true(qst_fgen_sim_frequency_hz(r->sim) == 125.0);

	from = r->n_ev;
	assert_int_equal(vib->output(&r->dev, false), QST_OK);
	run_until_ones(r, from, 1); /* OUTP? "0", *OPC? "1" */
	assert_int_equal(count_text(r, from, "0"), 1);
	assert_true(qst_fgen_sim_amplitude_vpp(r->sim) == 0.0);

	/* Every read-back agreed; every request got its reply; the tags
	 * counted up one by one. */
	assert_int_equal(count_type(r, QST_EV_DEVICE_FAULT), 0);
	pthread_mutex_lock(&r->bridge.lock);
	assert_int_equal(r->bridge.bad, 0);
	assert_int_equal(r->bridge.requests, r->bridge.replies);
	assert_true(r->bridge.requests >= 8);
	assert_true(r->bridge.msg_outs > r->bridge.requests);
	assert_true(r->bridge.tags_ok);
	pthread_mutex_unlock(&r->bridge.lock);
}

/* Read the transport alone (no driver) for ms, stepping the simulator. */
static size_t read_for(struct rig *r, char *out, size_t cap, int ms)
{
	size_t len = 0;
	int64_t end = qst_monotonic_ns() + (int64_t)ms * QST_NS_PER_MS;
	while (qst_monotonic_ns() < end && !memchr(out, '\n', len)) {
		qst_fgen_sim_step(r->sim, qst_monotonic_ns() - r->t0);
		struct pollfd pfd = { .fd = qst_transport_fd(r->t),
				      .events = POLLIN };
		if (poll(&pfd, 1, 2) <= 0)
			continue;
		ssize_t n = qst_transport_read(r->t, out + len, cap - 1 - len,
					       NULL);
		assert_true(n >= 0);
		len += (size_t)n;
	}
	out[len] = '\0';
	return len;
}

/*
 * A reply whose bTag answers no request is refused and dropped; the
 * next reply, to a later request, still gets through, header stripped.
 */
static void test_reply_with_wrong_tag_dropped(void **state)
{
	struct rig *r = *state;
	assert_non_null(r->t);
	r->dev.driver->close(&r->dev); /* the transport alone from here */
	char buf[256];
	pthread_mutex_lock(&r->bridge.lock);
	r->bridge.corrupt_next = true;
	unsigned long replies = r->bridge.replies;
	pthread_mutex_unlock(&r->bridge.lock);
	assert_int_equal(qst_transport_write(r->t, "*IDN?\n", 6, 100), QST_OK);
	assert_int_equal(read_for(r, buf, sizeof(buf), 300), 0);
	pthread_mutex_lock(&r->bridge.lock);
	assert_int_equal(r->bridge.replies, replies + 1); /* it was sent */
	pthread_mutex_unlock(&r->bridge.lock);

	assert_int_equal(qst_transport_write(r->t, "*OPC?\n", 6, 100), QST_OK);
	assert_int_equal(read_for(r, buf, sizeof(buf), 1000), 2);
	assert_string_equal(buf, "1\n");
	/* A command without '?' asks for nothing. */
	assert_int_equal(qst_transport_write(r->t, "*CLS\n", 5, 100), QST_OK);
	assert_int_equal(read_for(r, buf, sizeof(buf), 100), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enumerate_lists_usbtmc),
		cmocka_unit_test(test_open_identifies),
		cmocka_unit_test(test_sine_and_output),
		cmocka_unit_test(test_reply_with_wrong_tag_dropped),
	};
	return cmocka_run_group_tests(tests, rig_setup, rig_teardown);
}
