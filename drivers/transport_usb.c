/*
 * The USB transport through libusb (qst_drivers.h, qst_transport_usb_open)
 * and the USB enumeration behind `qst devices` (qst_usb.h).
 *
 * IN data never waits for the station to ask: async transfers stay in
 * flight on the device's IN endpoint and complete on a libusb event
 * thread, which stamps each chunk with qst_monotonic_ns() the moment it
 * completes and queues it. An eventfd polls readable while chunks wait,
 * so the station's poll() loop treats a USB device like a serial port,
 * and the arrival time is the callback's, not the time the loop woke
 * (docs/devices.md "USB transport", threads and arrival stamps).
 *
 * Two framings (enum qst_usb_kind):
 * - QST_USB_INTERRUPT_IN: each interrupt-IN report is one chunk (HID
 *   pedals, devices.md §7). Nothing is written to such devices.
 * - QST_USB_TMC: SCPI over USB-TMC bulk endpoints (devices.md "USB-TMC
 *   framing"): write() wraps the command in DEV_DEP_MSG_OUT and, for a
 *   query ('?'), sends REQUEST_DEV_DEP_MSG_IN; replies arrive on the
 *   always-pending bulk-IN transfer, their header checked and stripped, so
 *   read() returns plain reply text to a line-based driver (fgen).
 *
 * An unplugged device (a transfer ends with LIBUSB_TRANSFER_NO_DEVICE, or
 * IN transfers keep failing) reads QST_ERR_IO from then on.
 */
#define LOG_PREFIX "transport-usb: "

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libusb.h>

#include "qst_drivers.h"
#include "qst_usb.h"
#include "usbtmc.h"

#define CHUNK_MAX 1024      /* one IN transfer; HID reports are far smaller */
#define QUEUE_SLOTS 64      /* chunks waiting for read() */
#define N_INTR_XFERS 2      /* a second report can land while one is queued */
#define N_TMC_XFERS 1       /* replies must stay in order */
#define MAX_IN_XFERS 2
#define MAX_FAILS 8         /* consecutive failed IN transfers = link gone */
#define TAGS_MAX 32         /* USB-TMC queries awaiting their replies */
#define EVENT_WAKE_MS 100   /* event thread re-checks its stop flag */
#define CLOSE_WAIT_MS 1000  /* for cancelled transfers to come back */

struct usb_chunk {
	int64_t t_ns;
	size_t len;
	size_t off;  /* a read() with a small buffer takes a chunk in parts */
	uint8_t data[CHUNK_MAX];
};

struct usb_priv {
	enum qst_usb_kind kind;
	libusb_context *ctx;
	libusb_device_handle *handle;
	int iface;
	bool claimed;
	uint8_t ep_in, ep_out;
	int efd;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop_thread;

	/* Shared with the event thread, under lock. */
	pthread_mutex_t lock;
	struct usb_chunk *queue;
	size_t q_head, q_len;
	unsigned long dropped;     /* chunks lost to a full queue */
	unsigned long bad_replies; /* USB-TMC replies refused */
	struct libusb_transfer *xfer[MAX_IN_XFERS];
	int n_xfer;
	int in_flight;
	bool closing;
	bool gone;
	const char *gone_why;
	bool gone_logged;
	int fails;
	uint8_t want_tags[TAGS_MAX]; /* USB-TMC request tags, oldest first */
	size_t n_want;

	uint8_t tag; /* last USB-TMC bTag used (caller's thread only) */
};

static struct usb_priv *priv_of(struct qst_transport *t)
{
	return t->priv;
}

/* ------------------------------------------------ event-thread side */

/* Make fd() readable; caller holds lock. */
static void signal_ready(struct usb_priv *p)
{
	uint64_t one = 1;
	ssize_t n = write(p->efd, &one, sizeof(one));
	(void)n; /* EAGAIN: the counter is already non-zero, still readable */
}

static void mark_gone(struct usb_priv *p, const char *why)
{
	if (!p->gone) {
		p->gone = true;
		p->gone_why = why;
	}
	signal_ready(p); /* so the reader wakes and learns */
}

static void enqueue(struct usb_priv *p, const uint8_t *buf, size_t len,
		    int64_t t_ns)
{
	if (len == 0)
		return;
	if (p->q_len == QUEUE_SLOTS) {
		p->dropped++;
		return;
	}
	struct usb_chunk *c = &p->queue[(p->q_head + p->q_len) % QUEUE_SLOTS];
	c->t_ns = t_ns;
	c->len = len < CHUNK_MAX ? len : CHUNK_MAX;
	c->off = 0;
	memcpy(c->data, buf, c->len);
	p->q_len++;
	signal_ready(p);
}

/* Where tag sits among the awaited request tags, or -1. */
static int find_tag(const struct usb_priv *p, uint8_t tag)
{
	for (size_t i = 0; i < p->n_want; i++)
		if (p->want_tags[i] == tag)
			return (int)i;
	return -1;
}

/*
 * A USB-TMC bulk-IN transfer: a DEV_DEP_MSG_IN answering the oldest
 * request, normally. A reply to a later request means earlier ones were
 * lost (the device dropped them); those tags are forgotten with it.
 */
static void take_tmc_reply(struct usb_priv *p, const uint8_t *buf, size_t len,
			   int64_t t_ns)
{
	struct qst_usbtmc_header h;
	int at = -1;
	if (qst_usbtmc_decode_header(buf, len, &h) == QST_OK)
		at = find_tag(p, h.tag);
	const uint8_t *payload;
	size_t n;
	bool eom;
	if (at < 0 || qst_usbtmc_decode_reply(buf, len, h.tag, &payload, &n,
					      &eom) < 0) {
		p->bad_replies++;
		return;
	}
	memmove(p->want_tags, p->want_tags + at + 1,
		p->n_want - (size_t)at - 1);
	p->n_want -= (size_t)at + 1;
	/* !eom: the rest needs another request; replies here are one short
	 * line, far below CHUNK_MAX (docs/devices.md "USB transport", gaps). */
	enqueue(p, payload, n, t_ns);
}

static void take_in(struct usb_priv *p, const struct libusb_transfer *x,
		    int64_t t_ns)
{
	size_t len = x->actual_length > 0 ? (size_t)x->actual_length : 0;
	if (p->kind == QST_USB_TMC)
		take_tmc_reply(p, x->buffer, len, t_ns);
	else
		enqueue(p, x->buffer, len, t_ns);
}

static void LIBUSB_CALL in_done(struct libusb_transfer *x)
{
	int64_t t_ns = qst_monotonic_ns(); /* first thing: the arrival */
	struct usb_priv *p = x->user_data;
	pthread_mutex_lock(&p->lock);
	p->in_flight--;
	switch (x->status) {
	case LIBUSB_TRANSFER_COMPLETED:
		p->fails = 0;
		take_in(p, x, t_ns);
		break;
	case LIBUSB_TRANSFER_NO_DEVICE:
		mark_gone(p, "device unplugged");
		break;
	case LIBUSB_TRANSFER_CANCELLED:
		break;
	default: /* ERROR, STALL, OVERFLOW, TIMED_OUT */
		if (++p->fails >= MAX_FAILS)
			mark_gone(p, "IN transfers keep failing");
		break;
	}
	bool again = !p->gone && !p->closing &&
		     x->status != LIBUSB_TRANSFER_CANCELLED;
	if (again) {
		if (libusb_submit_transfer(x) == 0)
			p->in_flight++;
		else
			mark_gone(p, "IN transfer cannot be resubmitted");
	}
	pthread_mutex_unlock(&p->lock);
}

static void *event_thread(void *arg)
{
	struct usb_priv *p = arg;
	while (!atomic_load(&p->stop_thread)) {
		struct timeval tv = { .tv_sec = 0,
				      .tv_usec = EVENT_WAKE_MS * 1000 };
		int r = libusb_handle_events_timeout_completed(p->ctx, &tv, NULL);
		if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED) {
			/* Do not spin on a broken context. */
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* ------------------------------------------------------ caller side */

static int map_libusb(int r)
{
	switch (r) {
	case LIBUSB_SUCCESS: return QST_OK;
	case LIBUSB_ERROR_TIMEOUT: return QST_ERR_TIMEOUT;
	case LIBUSB_ERROR_NO_MEM: return QST_ERR_NOMEM;
	case LIBUSB_ERROR_NOT_FOUND:
	case LIBUSB_ERROR_NO_DEVICE: return QST_ERR_IO;
	case LIBUSB_ERROR_NOT_SUPPORTED: return QST_ERR_UNSUPPORTED;
	default: return QST_ERR_IO;
	}
}

/* One bulk-OUT message, all of it within timeout_ms. */
static int bulk_out(struct qst_transport *t, const uint8_t *buf, int len,
		    unsigned timeout_ms)
{
	struct usb_priv *p = priv_of(t);
	int done = 0;
	/* libusb's 0 means forever; a caller's 0 means "now". */
	unsigned to = timeout_ms ? timeout_ms : 1;
	int r = libusb_bulk_transfer(p->handle, p->ep_out, (uint8_t *)buf, len,
				     &done, to);
	if (r == 0 && done == len)
		return QST_OK;
	if (r == LIBUSB_ERROR_NO_DEVICE) {
		pthread_mutex_lock(&p->lock);
		mark_gone(p, "device unplugged");
		pthread_mutex_unlock(&p->lock);
	}
	int ret = r == 0 ? QST_ERR_IO : map_libusb(r);
	qst_warn("%s: bulk OUT of %d bytes: %s (%d sent)", t->description,
		 len, r == 0 ? "short" : libusb_error_name(r), done);
	return ret;
}

static int tmc_send(struct qst_transport *t, uint8_t msg_id,
		    const void *payload, size_t len, unsigned timeout_ms)
{
	struct usb_priv *p = priv_of(t);
	size_t cap = qst_usbtmc_message_len(len);
	uint8_t *msg = malloc(cap);
	if (!msg)
		return QST_ERR_NOMEM;
	p->tag = qst_usbtmc_next_tag(p->tag);
	int n = qst_usbtmc_encode(msg, cap, msg_id, p->tag, payload, len, true);
	int ret = n < 0 ? n : bulk_out(t, msg, n, timeout_ms);
	free(msg);
	return ret;
}

/*
 * Ask for the reply to a query. The tag goes on the awaited list before
 * the request leaves, so a fast reply always finds it.
 */
static int tmc_request(struct qst_transport *t, unsigned timeout_ms)
{
	struct usb_priv *p = priv_of(t);
	uint8_t req[QST_USBTMC_HEADER_LEN];
	uint8_t tag = qst_usbtmc_next_tag(p->tag);
	pthread_mutex_lock(&p->lock);
	if (p->n_want == TAGS_MAX) {
		pthread_mutex_unlock(&p->lock);
		qst_warn("%s: %d queries unanswered", t->description, TAGS_MAX);
		return QST_ERR_STATE;
	}
	p->want_tags[p->n_want++] = tag;
	/* Normally the bulk-IN transfer is always pending; resubmit one a
	 * failure left idle. */
	for (int i = 0; i < p->n_xfer && p->in_flight == 0 && !p->gone; i++)
		if (libusb_submit_transfer(p->xfer[i]) == 0)
			p->in_flight++;
	pthread_mutex_unlock(&p->lock);
	p->tag = tag;
	qst_usbtmc_encode_request(req, sizeof(req), tag,
				  CHUNK_MAX - QST_USBTMC_HEADER_LEN);
	int ret = bulk_out(t, req, (int)sizeof(req), timeout_ms);
	if (ret < 0) {
		pthread_mutex_lock(&p->lock);
		int at = find_tag(p, tag);
		if (at >= 0)
			p->n_want = (size_t)at; /* it was the newest */
		pthread_mutex_unlock(&p->lock);
	}
	return ret;
}

static int usb_write(struct qst_transport *t, const void *buf, size_t len,
		     unsigned timeout_ms)
{
	struct usb_priv *p = priv_of(t);
	if (p->kind != QST_USB_TMC)
		return QST_ERR_UNSUPPORTED;
	pthread_mutex_lock(&p->lock);
	bool gone = p->gone;
	pthread_mutex_unlock(&p->lock);
	if (gone)
		return QST_ERR_IO;
	int ret = tmc_send(t, QST_USBTMC_DEV_DEP_MSG_OUT, buf, len, timeout_ms);
	if (ret == QST_OK && memchr(buf, '?', len))
		ret = tmc_request(t, timeout_ms);
	return ret;
}

static ssize_t pop_chunk(struct usb_priv *p, void *buf, size_t cap,
			 int64_t *arrival_mono_ns)
{
	struct usb_chunk *c = &p->queue[p->q_head];
	size_t n = c->len - c->off;
	if (n > cap)
		n = cap;
	memcpy(buf, c->data + c->off, n);
	c->off += n;
	*arrival_mono_ns = c->t_ns;
	if (c->off == c->len) {
		p->q_head = (p->q_head + 1) % QUEUE_SLOTS;
		p->q_len--;
	}
	return (ssize_t)n;
}

static void drain_eventfd(struct usb_priv *p)
{
	uint64_t v;
	ssize_t n = read(p->efd, &v, sizeof(v));
	(void)n; /* EAGAIN: it was not signalled */
}

static ssize_t usb_read(struct qst_transport *t, void *buf, size_t cap,
			int64_t *arrival_mono_ns)
{
	struct usb_priv *p = priv_of(t);
	ssize_t ret = 0;
	bool log_gone = false;
	unsigned long dropped = 0;
	pthread_mutex_lock(&p->lock);
	if (p->q_len > 0) {
		ret = pop_chunk(p, buf, cap, arrival_mono_ns);
	} else if (p->gone) {
		ret = QST_ERR_IO;
		log_gone = !p->gone_logged;
		p->gone_logged = true;
	}
	/* Readable exactly while chunks wait, or for good once gone. */
	if (p->q_len == 0 && !p->gone)
		drain_eventfd(p);
	if (p->dropped) {
		dropped = p->dropped;
		p->dropped = 0;
	}
	const char *why = p->gone_why;
	pthread_mutex_unlock(&p->lock);
	if (dropped)
		qst_warn("%s: %lu chunks lost, read() fell behind",
			 t->description, dropped);
	if (log_gone)
		qst_err("%s: %s", t->description, why);
	return ret;
}

static int usb_fd(struct qst_transport *t)
{
	return priv_of(t)->efd;
}

/* Cancel what is in flight and wait for the callbacks to see it. */
static bool cancel_transfers(struct usb_priv *p)
{
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_xfer; i++)
		libusb_cancel_transfer(p->xfer[i]); /* NOT_FOUND: not in flight */
	for (int waited = 0; waited < CLOSE_WAIT_MS; waited++) {
		pthread_mutex_lock(&p->lock);
		int left = p->in_flight;
		pthread_mutex_unlock(&p->lock);
		if (left == 0)
			return true;
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

static void free_priv(struct usb_priv *p, bool transfers_idle)
{
	if (p->thread_started) {
		atomic_store(&p->stop_thread, true);
		libusb_interrupt_event_handler(p->ctx);
		pthread_join(p->thread, NULL);
	}
	/* A transfer libusb still owns must not be freed; leak it instead. */
	for (int i = 0; i < p->n_xfer && transfers_idle; i++)
		libusb_free_transfer(p->xfer[i]);
	if (p->claimed)
		libusb_release_interface(p->handle, p->iface);
	if (p->handle)
		libusb_close(p->handle);
	if (p->ctx)
		libusb_exit(p->ctx);
	if (p->efd >= 0)
		close(p->efd);
	pthread_mutex_destroy(&p->lock);
	free(p->queue);
	free(p);
}

static void usb_close(struct qst_transport *t)
{
	struct usb_priv *p = priv_of(t);
	bool idle = !p->thread_started || cancel_transfers(p);
	if (!idle)
		qst_warn("%s: transfers did not come back; leaking them",
			 t->description);
	free_priv(p, idle);
	free(t);
}

static const struct qst_transport_ops usb_ops = {
	.name = "usb",
	.write = usb_write,
	.read = usb_read,
	.fd = usb_fd,
	.close = usb_close,
};

/* ----------------------------------------------------------- opening */

struct usb_spec {
	uint16_t vid, pid;
	char serial[64]; /* empty: any */
};

static int parse_hex16(const char *s, char **end, uint16_t *out)
{
	unsigned long v = strtoul(s, end, 16);
	if (*end == s || *end - s > 4 || v > 0xffff)
		return QST_ERR_ARG;
	*out = (uint16_t)v;
	return QST_OK;
}

/* "VID:PID" or "VID:PID:SERIAL", VID and PID in hex. */
static int parse_spec(const char *spec, struct usb_spec *out)
{
	char *end;
	memset(out, 0, sizeof(*out));
	if (parse_hex16(spec, &end, &out->vid) < 0 || *end != ':')
		return QST_ERR_ARG;
	if (parse_hex16(end + 1, &end, &out->pid) < 0)
		return QST_ERR_ARG;
	if (*end == '\0')
		return QST_OK;
	if (*end != ':' || end[1] == '\0' ||
	    strlen(end + 1) >= sizeof(out->serial))
		return QST_ERR_ARG;
	snprintf(out->serial, sizeof(out->serial), "%s", end + 1);
	return QST_OK;
}

static void read_string(libusb_device_handle *h, uint8_t index, char *out,
			size_t cap)
{
	out[0] = '\0';
	if (index == 0)
		return;
	int n = libusb_get_string_descriptor_ascii(h, index, (uint8_t *)out,
						   (int)cap);
	if (n < 0)
		out[0] = '\0';
	else if ((size_t)n < cap)
		out[n] = '\0';
	else
		out[cap - 1] = '\0';
}

/*
 * Open the first device matching spec (and its serial, when given). err
 * gets the reason when nothing could be opened.
 */
static int find_and_open(libusb_context *ctx, const struct usb_spec *s,
			 libusb_device_handle **out, char *err, size_t errlen)
{
	libusb_device **list;
	ssize_t n = libusb_get_device_list(ctx, &list);
	if (n < 0) {
		snprintf(err, errlen, "cannot list USB devices: %s",
			 libusb_error_name((int)n));
		return QST_ERR_IO;
	}
	int ret = QST_ERR_NOTFOUND;
	snprintf(err, errlen, "no USB device %04x:%04x%s%s", s->vid, s->pid,
		 s->serial[0] ? " with serial " : "", s->serial);
	for (ssize_t i = 0; i < n && ret != QST_OK; i++) {
		struct libusb_device_descriptor d;
		if (libusb_get_device_descriptor(list[i], &d) < 0 ||
		    d.idVendor != s->vid || d.idProduct != s->pid)
			continue;
		libusb_device_handle *h;
		int r = libusb_open(list[i], &h);
		if (r < 0) {
			snprintf(err, errlen, "%04x:%04x on bus %u address %u: %s%s",
				 s->vid, s->pid, libusb_get_bus_number(list[i]),
				 libusb_get_device_address(list[i]),
				 libusb_error_name(r),
				 r == LIBUSB_ERROR_ACCESS ?
					 " (no udev rule granting access?)" : "");
			ret = QST_ERR_IO;
			continue;
		}
		char serial[64];
		read_string(h, d.iSerialNumber, serial, sizeof(serial));
		if (s->serial[0] && strcmp(serial, s->serial) != 0) {
			libusb_close(h);
			continue;
		}
		*out = h;
		ret = QST_OK;
	}
	libusb_free_device_list(list, 1);
	return ret;
}

static bool is_kind(const struct libusb_endpoint_descriptor *e, int type,
		    bool in)
{
	return (e->bmAttributes & 0x03) == type &&
	       ((e->bEndpointAddress & LIBUSB_ENDPOINT_IN) != 0) == in;
}

/*
 * The interface to claim: for INTERRUPT_IN the first with an interrupt-IN
 * endpoint; for USB-TMC class 0xFE/0x03 with bulk IN and OUT. Alternate
 * setting 0 only: the devices here have no others.
 */
static bool pick_interface(const struct libusb_config_descriptor *cfg,
			   enum qst_usb_kind kind, struct usb_priv *p)
{
	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		if (cfg->interface[i].num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *a =
			&cfg->interface[i].altsetting[0];
		if (kind == QST_USB_TMC &&
		    (a->bInterfaceClass != QST_USBTMC_CLASS ||
		     a->bInterfaceSubClass != QST_USBTMC_SUBCLASS))
			continue;
		int type = kind == QST_USB_TMC ? LIBUSB_TRANSFER_TYPE_BULK :
						 LIBUSB_TRANSFER_TYPE_INTERRUPT;
		p->ep_in = p->ep_out = 0;
		for (int e = 0; e < a->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep =
				&a->endpoint[e];
			if (!p->ep_in && is_kind(ep, type, true))
				p->ep_in = ep->bEndpointAddress;
			if (!p->ep_out && is_kind(ep, type, false))
				p->ep_out = ep->bEndpointAddress;
		}
		if (p->ep_in && (kind != QST_USB_TMC || p->ep_out)) {
			p->iface = a->bInterfaceNumber;
			return true;
		}
	}
	return false;
}

static int claim(struct usb_priv *p, enum qst_usb_kind kind, char *err,
		 size_t errlen)
{
	struct libusb_config_descriptor *cfg;
	libusb_device *dev = libusb_get_device(p->handle);
	int r = libusb_get_active_config_descriptor(dev, &cfg);
	if (r < 0) {
		snprintf(err, errlen, "no configuration descriptor: %s",
			 libusb_error_name(r));
		return QST_ERR_IO;
	}
	bool found = pick_interface(cfg, kind, p);
	libusb_free_config_descriptor(cfg);
	if (!found) {
		snprintf(err, errlen, "no %s interface",
			 kind == QST_USB_TMC ? "USB-TMC (class FE/03, bulk IN+OUT)" :
					       "interrupt-IN");
		return QST_ERR_UNSUPPORTED;
	}
	/* A HID pedal is bound to usbhid; let libusb detach it on claim and
	 * reattach it on release (devices.md §7, "Generic"). */
	libusb_set_auto_detach_kernel_driver(p->handle, 1);
	r = libusb_claim_interface(p->handle, p->iface);
	if (r < 0) {
		snprintf(err, errlen, "claiming interface %d: %s%s", p->iface,
			 libusb_error_name(r),
			 r == LIBUSB_ERROR_BUSY ? " (another program has it)" : "");
		return QST_ERR_IO;
	}
	p->claimed = true;
	return QST_OK;
}

static int start_transfers(struct usb_priv *p, char *err, size_t errlen)
{
	p->n_xfer = p->kind == QST_USB_TMC ? N_TMC_XFERS : N_INTR_XFERS;
	for (int i = 0; i < p->n_xfer; i++) {
		struct libusb_transfer *x = libusb_alloc_transfer(0);
		uint8_t *buf = malloc(CHUNK_MAX);
		if (!x || !buf) {
			libusb_free_transfer(x);
			free(buf);
			p->n_xfer = i;
			return QST_ERR_NOMEM;
		}
		if (p->kind == QST_USB_TMC)
			libusb_fill_bulk_transfer(x, p->handle, p->ep_in, buf,
						  CHUNK_MAX, in_done, p, 0);
		else
			libusb_fill_interrupt_transfer(x, p->handle, p->ep_in,
						       buf, CHUNK_MAX, in_done,
						       p, 0);
		x->flags = LIBUSB_TRANSFER_FREE_BUFFER;
		p->xfer[i] = x;
	}
	for (int i = 0; i < p->n_xfer; i++) {
		int r = libusb_submit_transfer(p->xfer[i]);
		if (r < 0) {
			snprintf(err, errlen, "submitting IN transfer: %s",
				 libusb_error_name(r));
			return QST_ERR_IO;
		}
		p->in_flight++;
	}
	return QST_OK;
}

static void describe(struct qst_transport *t, libusb_device_handle *h,
		     const struct usb_spec *s)
{
	struct libusb_device_descriptor d;
	char mfr[32] = "", prod[32] = "";
	if (libusb_get_device_descriptor(libusb_get_device(h), &d) == 0) {
		read_string(h, d.iManufacturer, mfr, sizeof(mfr));
		read_string(h, d.iProduct, prod, sizeof(prod));
	}
	snprintf(t->description, sizeof(t->description), "usb:%04x:%04x%s%s%s%s",
		 s->vid, s->pid, mfr[0] ? " " : "", mfr, prod[0] ? " " : "",
		 prod);
}

static int open_priv(struct usb_priv *p, const struct usb_spec *s,
		     struct qst_transport *t, char *err, size_t errlen)
{
	int r = libusb_init(&p->ctx);
	if (r < 0) {
		p->ctx = NULL;
		snprintf(err, errlen, "libusb_init: %s", libusb_error_name(r));
		return QST_ERR_IO;
	}
	int ret = find_and_open(p->ctx, s, &p->handle, err, errlen);
	if (ret == QST_OK)
		describe(t, p->handle, s);
	if (ret == QST_OK)
		ret = claim(p, p->kind, err, errlen);
	if (ret == QST_OK)
		ret = start_transfers(p, err, errlen);
	if (ret == QST_OK &&
	    pthread_create(&p->thread, NULL, event_thread, p) != 0) {
		snprintf(err, errlen, "cannot start the USB event thread");
		ret = QST_ERR_IO;
	}
	if (ret == QST_OK)
		p->thread_started = true;
	return ret;
}

/*
 * Opening failed before the event thread ran: cancel what was submitted
 * and run libusb's events here until the cancellations come back.
 */
static bool settle_unthreaded(struct usb_priv *p)
{
	p->closing = true;
	for (int i = 0; i < p->n_xfer && p->in_flight > 0; i++)
		libusb_cancel_transfer(p->xfer[i]);
	for (int k = 0; k < 10 && p->in_flight > 0; k++) {
		struct timeval tv = { 0, 100 * 1000 };
		libusb_handle_events_timeout_completed(p->ctx, &tv, NULL);
	}
	return p->in_flight == 0;
}

static struct usb_priv *new_priv(enum qst_usb_kind kind)
{
	struct usb_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->kind = kind;
	p->efd = -1;
	atomic_init(&p->stop_thread, false);
	pthread_mutex_init(&p->lock, NULL);
	p->queue = calloc(QUEUE_SLOTS, sizeof(*p->queue));
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!p->queue || p->efd < 0) {
		free_priv(p, true);
		return NULL;
	}
	return p;
}

int qst_transport_usb_open(const char *spec, enum qst_usb_kind kind,
			   struct qst_transport **out, char *err,
			   size_t errlen)
{
	char dummy[1];
	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	struct usb_spec s;
	if (!spec || !out ||
	    (kind != QST_USB_INTERRUPT_IN && kind != QST_USB_TMC)) {
		snprintf(err, errlen, "bad arguments");
		return QST_ERR_ARG;
	}
	if (parse_spec(spec, &s) < 0) {
		snprintf(err, errlen, "\"%s\" is not VID:PID[:SERIAL] (hex)",
			 spec);
		return QST_ERR_ARG;
	}
	struct qst_transport *t = calloc(1, sizeof(*t));
	struct usb_priv *p = new_priv(kind);
	if (!t || !p) {
		free(t);
		if (p)
			free_priv(p, true);
		snprintf(err, errlen, "out of memory");
		return QST_ERR_NOMEM;
	}
	int ret = open_priv(p, &s, t, err, errlen);
	if (ret < 0) {
		qst_dbg("%s: %s", spec, err);
		free_priv(p, settle_unthreaded(p));
		free(t);
		return ret;
	}
	t->ops = &usb_ops;
	t->priv = p;
	*out = t;
	qst_info("opened %s (interface %d, IN 0x%02x%s)", t->description,
		 p->iface, p->ep_in, kind == QST_USB_TMC ? ", USB-TMC" : "");
	return QST_OK;
}

/* ------------------------------------------------------- enumeration */

static void classify(libusb_device *dev, struct qst_usb_info *info)
{
	struct libusb_config_descriptor *cfg;
	if (libusb_get_active_config_descriptor(dev, &cfg) < 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) < 0)
		return;
	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		for (int a = 0; a < cfg->interface[i].num_altsetting; a++) {
			const struct libusb_interface_descriptor *d =
				&cfg->interface[i].altsetting[a];
			if (d->bInterfaceClass == LIBUSB_CLASS_HID)
				info->hid = true;
			if (d->bInterfaceClass == QST_USBTMC_CLASS &&
			    d->bInterfaceSubClass == QST_USBTMC_SUBCLASS)
				info->usbtmc = true;
		}
	}
	libusb_free_config_descriptor(cfg);
}

static void describe_device(libusb_device *dev, struct qst_usb_info *info)
{
	struct libusb_device_descriptor d;
	memset(info, 0, sizeof(*info));
	info->bus = libusb_get_bus_number(dev);
	info->address = libusb_get_device_address(dev);
	if (libusb_get_device_descriptor(dev, &d) < 0)
		return;
	info->vid = d.idVendor;
	info->pid = d.idProduct;
	classify(dev, info);
	libusb_device_handle *h;
	if (libusb_open(dev, &h) < 0)
		return; /* no permission: the strings stay empty */
	read_string(h, d.iSerialNumber, info->serial, sizeof(info->serial));
	read_string(h, d.iManufacturer, info->manufacturer,
		    sizeof(info->manufacturer));
	read_string(h, d.iProduct, info->product, sizeof(info->product));
	libusb_close(h);
}

int qst_usb_enumerate(struct qst_usb_info *out, int max)
{
	if ((!out && max > 0) || max < 0)
		return QST_ERR_ARG;
	libusb_context *ctx;
	int r = libusb_init(&ctx);
	if (r < 0) {
		qst_warn("libusb_init: %s", libusb_error_name(r));
		return QST_ERR_IO;
	}
	libusb_device **list;
	ssize_t n = libusb_get_device_list(ctx, &list);
	if (n < 0) {
		qst_warn("listing USB devices: %s", libusb_error_name((int)n));
		libusb_exit(ctx);
		return QST_ERR_IO;
	}
	int filled = 0;
	for (ssize_t i = 0; i < n && filled < max; i++)
		describe_device(list[i], &out[filled++]);
	libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	return filled;
}
