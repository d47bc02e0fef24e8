/*
 * Emulated USB devices for the driver tests (lib_usb.h), following the
 * recipe in architecture.md "USB (libusb against an emulated device...)":
 * the ioctl handler is attached to /dev/bus/usb/BBB/DDD before the device
 * is added, and answers the usbfs requests libusb makes. URBs are kept as
 * umockdev ioctl data between SUBMITURB and the REAPURB(NDELAY) that hands
 * them back; their buffers are resolved at submit so OUT payloads are
 * readable and IN data written there reaches the host at reap.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/usbdevice_fs.h>

#include "lib_usb.h"

#define MAX_URBS 32
#define IN_QUEUE 64
#define IN_MAX 1024
#define STRING_MAX 64
#define SETUP_LEN 8

struct urb_ref {
	UMockdevIoctlData *urb; /* the struct usbdevfs_urb */
	UMockdevIoctlData *buf; /* its buffer, resolved */
};

struct in_chunk {
	size_t len;
	uint8_t data[IN_MAX];
};

struct qst_umock_usb {
	struct qst_umock_usb_config cfg;
	uint8_t *descriptors;
	char devnode[64];
	UMockdevTestbed *tb;
	UMockdevIoctlBase *handler;

	pthread_mutex_t lock;
	struct urb_ref pending[MAX_URBS]; /* IN transfers waiting for data */
	size_t n_pending;
	struct urb_ref done[MAX_URBS];    /* completed, to be reaped */
	size_t n_done;
	struct in_chunk in[IN_QUEUE];
	size_t in_head, in_len;
	unsigned long outs;
	int claimed;
	bool unplugged;
};

static struct usbdevfs_urb *urb_of(const struct urb_ref *r)
{
	return (struct usbdevfs_urb *)r->urb->data;
}

static void ref_drop(struct urb_ref *r)
{
	if (r->buf)
		umockdev_ioctl_data_unref(r->buf);
	if (r->urb)
		umockdev_ioctl_data_unref(r->urb);
	r->buf = r->urb = NULL;
}

static void push_done(struct qst_umock_usb *u, struct urb_ref r)
{
	if (u->n_done == MAX_URBS) {
		fprintf(stderr, "lib_usb: too many completed URBs\n");
		abort();
	}
	u->done[u->n_done++] = r;
}

static struct urb_ref take_at(struct urb_ref *list, size_t *n, size_t i)
{
	struct urb_ref r = list[i];
	memmove(list + i, list + i + 1, (*n - i - 1) * sizeof(*list));
	(*n)--;
	return r;
}

/* ---------------------------------------------------- control requests */

/* A string descriptor: bLength, type 3, UTF-16LE (ASCII here). */
static size_t string_descriptor(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s);
	if (n > STRING_MAX)
		n = STRING_MAX;
	size_t len = 2 + 2 * n;
	if (len > cap)
		len = cap & ~(size_t)1;
	out[0] = (uint8_t)(2 + 2 * n);
	out[1] = 3;
	for (size_t i = 0; 2 + 2 * i + 1 < len; i++) {
		out[2 + 2 * i] = (uint8_t)s[i];
		out[3 + 2 * i] = 0;
	}
	return len;
}

static const char *string_at(const struct qst_umock_usb *u, uint8_t index)
{
	switch (index) {
	case 1: return u->cfg.manufacturer;
	case 2: return u->cfg.product;
	case 3: return u->cfg.serial;
	default: return NULL;
	}
}

/*
 * GET_DESCRIPTOR (bmRequestType 0x80, bRequest 6) for the device
 * descriptor, the configuration and strings; everything else stalls.
 * Returns the data length or -EPIPE.
 */
static int control(struct qst_umock_usb *u, uint8_t *buf, size_t len)
{
	if (len < SETUP_LEN)
		return -EPIPE;
	uint8_t type = buf[3], index = buf[2];
	uint16_t w_length = (uint16_t)(buf[6] | buf[7] << 8);
	uint8_t *data = buf + SETUP_LEN;
	size_t cap = len - SETUP_LEN < w_length ? len - SETUP_LEN : w_length;
	if (buf[0] != 0x80 || buf[1] != 6)
		return -EPIPE;
	if (type == 1 || type == 2) { /* device, configuration */
		size_t off = type == 1 ? 0 : 18;
		size_t n = type == 1 ? 18 : u->cfg.descriptors_len - 18;
		n = n < cap ? n : cap;
		memcpy(data, u->descriptors + off, n);
		return (int)n;
	}
	if (type != 3)
		return -EPIPE;
	if (index == 0) { /* supported languages: en-US */
		const uint8_t langs[4] = { 4, 3, 0x09, 0x04 };
		size_t n = cap < 4 ? cap : 4;
		memcpy(data, langs, n);
		return (int)n;
	}
	const char *s = string_at(u, index);
	if (!s)
		return -EPIPE;
	return (int)string_descriptor(s, data, cap);
}

/* ------------------------------------------------------------- URBs */

static void submit(struct qst_umock_usb *u, UMockdevIoctlClient *client,
		   UMockdevIoctlData *arg)
{
	struct urb_ref r;
	r.urb = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb),
					    NULL);
	struct usbdevfs_urb *urb = urb_of(&r);
	r.buf = umockdev_ioctl_data_resolve(r.urb,
					    offsetof(struct usbdevfs_urb, buffer),
					    (gsize)urb->buffer_length, NULL);
	size_t len = (size_t)urb->buffer_length;
	pthread_mutex_lock(&u->lock);
	if (u->unplugged) {
		pthread_mutex_unlock(&u->lock);
		ref_drop(&r);
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		return;
	}
	urb->status = 0;
	urb->actual_length = 0;
	if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
		int n = control(u, r.buf->data, len);
		urb->status = n < 0 ? n : 0;
		urb->actual_length = n < 0 ? 0 : n;
		push_done(u, r);
	} else if (!(urb->endpoint & 0x80)) {
		u->outs++;
		urb->actual_length = urb->buffer_length;
		push_done(u, r);
		pthread_mutex_unlock(&u->lock);
		/* Outside the lock: the hook may take its own. */
		if (u->cfg.on_out)
			u->cfg.on_out(u->cfg.user, urb->endpoint, r.buf->data,
				      len);
		umockdev_ioctl_client_complete(client, 0, 0);
		return;
	} else if (u->n_pending == MAX_URBS) {
		pthread_mutex_unlock(&u->lock);
		ref_drop(&r);
		umockdev_ioctl_client_complete(client, -1, ENOMEM);
		return;
	} else {
		u->pending[u->n_pending++] = r;
	}
	pthread_mutex_unlock(&u->lock);
	umockdev_ioctl_client_complete(client, 0, 0);
}

/* Fill the oldest pending IN URB if data is there; lock held. */
static bool fill_in(struct qst_umock_usb *u)
{
	if (u->n_pending == 0)
		return false;
	struct urb_ref *r = &u->pending[0];
	struct usbdevfs_urb *urb = urb_of(r);
	size_t cap = (size_t)urb->buffer_length;
	size_t n = 0;
	if (u->unplugged) {
		urb->status = -ENODEV;
	} else if (u->in_len > 0) {
		struct in_chunk *c = &u->in[u->in_head];
		n = c->len < cap ? c->len : cap;
		memcpy(r->buf->data, c->data, n);
		u->in_head = (u->in_head + 1) % IN_QUEUE;
		u->in_len--;
	} else if (u->cfg.on_in) {
		n = u->cfg.on_in(u->cfg.user, urb->endpoint, r->buf->data, cap);
		if (n == 0)
			return false;
	} else {
		return false;
	}
	urb->actual_length = (int)n;
	push_done(u, take_at(u->pending, &u->n_pending, 0));
	return true;
}

static void reap(struct qst_umock_usb *u, UMockdevIoctlClient *client,
		 UMockdevIoctlData *arg)
{
	pthread_mutex_lock(&u->lock);
	if (u->n_done == 0)
		fill_in(u);
	if (u->n_done == 0) {
		bool gone = u->unplugged;
		pthread_mutex_unlock(&u->lock);
		umockdev_ioctl_client_complete(client, -1, gone ? ENODEV : EAGAIN);
		return;
	}
	struct urb_ref r = take_at(u->done, &u->n_done, 0);
	pthread_mutex_unlock(&u->lock);
	UMockdevIoctlData *slot =
		umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
	umockdev_ioctl_data_set_ptr(slot, 0, r.urb);
	umockdev_ioctl_data_unref(slot);
	umockdev_ioctl_client_complete(client, 0, 0);
	ref_drop(&r);
}

/* DISCARDURB names the URB by its address in the host process. */
static void discard(struct qst_umock_usb *u, UMockdevIoctlClient *client,
		    UMockdevIoctlData *arg)
{
	gulong addr = (gulong)(uintptr_t)*(void **)arg->data;
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < u->n_pending; i++) {
		if (u->pending[i].urb->client_addr != addr)
			continue;
		struct urb_ref r = take_at(u->pending, &u->n_pending, i);
		urb_of(&r)->status = -ENOENT;
		urb_of(&r)->actual_length = 0;
		push_done(u, r);
		pthread_mutex_unlock(&u->lock);
		umockdev_ioctl_client_complete(client, 0, 0);
		return;
	}
	pthread_mutex_unlock(&u->lock);
	umockdev_ioctl_client_complete(client, -1, EINVAL);
}

static void claim(struct qst_umock_usb *u, int delta)
{
	pthread_mutex_lock(&u->lock);
	u->claimed += delta;
	pthread_mutex_unlock(&u->lock);
}

static gboolean on_ioctl(UMockdevIoctlBase *handler,
			 UMockdevIoctlClient *client, gpointer user)
{
	(void)handler;
	struct qst_umock_usb *u = user;
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	switch (umockdev_ioctl_client_get_request(client)) {
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *d = umockdev_ioctl_data_resolve(
			arg, 0, sizeof(guint32), NULL);
		/* One URB per transfer, whatever its length. */
		guint32 caps = USBDEVFS_CAP_BULK_SCATTER_GATHER |
			       USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
			       USBDEVFS_CAP_ZERO_PACKET;
		memcpy(d->data, &caps, sizeof(caps));
		umockdev_ioctl_data_unref(d);
		umockdev_ioctl_client_complete(client, 0, 0);
		return TRUE;
	}
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_DISCONNECT_CLAIM: /* libusb's auto-detach path */
		claim(u, 1);
		umockdev_ioctl_client_complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_RELEASEINTERFACE:
		claim(u, -1);
		umockdev_ioctl_client_complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
		umockdev_ioctl_client_complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_GETDRIVER:
	case USBDEVFS_IOCTL: /* no kernel driver bound to detach/attach */
		umockdev_ioctl_client_complete(client, -1, ENODATA);
		return TRUE;
	case USBDEVFS_SUBMITURB:
		submit(u, client, arg);
		return TRUE;
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY:
		reap(u, client, arg);
		return TRUE;
	case USBDEVFS_DISCARDURB:
		discard(u, client, arg);
		return TRUE;
	default:
		return FALSE;
	}
}

/* ------------------------------------------------------------ public */

static char *hex_of(const uint8_t *p, size_t len)
{
	char *s = malloc(2 * len + 1);
	if (!s)
		abort();
	for (size_t i = 0; i < len; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * len] = '\0';
	return s;
}

struct qst_umock_usb *qst_umock_usb_add(UMockdevTestbed *tb,
					const struct qst_umock_usb_config *cfg)
{
	struct qst_umock_usb *u = calloc(1, sizeof(*u));
	if (!u || cfg->descriptors_len < 18 + 9)
		abort();
	u->cfg = *cfg;
	u->descriptors = malloc(cfg->descriptors_len);
	if (!u->descriptors)
		abort();
	memcpy(u->descriptors, cfg->descriptors, cfg->descriptors_len);
	pthread_mutex_init(&u->lock, NULL);
	u->tb = g_object_ref(tb);
	snprintf(u->devnode, sizeof(u->devnode), "/dev/bus/usb/%03d/%03d",
		 cfg->busnum, cfg->devnum);
	u->handler = umockdev_ioctl_base_new();
	g_signal_connect(u->handler, "handle-ioctl", G_CALLBACK(on_ioctl), u);
	GError *error = NULL;
	if (!umockdev_testbed_attach_ioctl(tb, u->devnode, u->handler, &error)) {
		fprintf(stderr, "lib_usb: attach_ioctl %s: %s\n", u->devnode,
			error ? error->message : "?");
		abort();
	}
	char *hex = hex_of(cfg->descriptors, cfg->descriptors_len);
	char *rec = g_strdup_printf(
		"P: /devices/usb%d/%d-%d\n"
		"N: bus/usb/%03d/%03d\n"
		"E: SUBSYSTEM=usb\n"
		"E: DEVTYPE=usb_device\n"
		"E: DRIVER=usb\n"
		"E: BUSNUM=%03d\n"
		"E: DEVNUM=%03d\n"
		"E: DEVNAME=%s\n"
		"A: busnum=%d\\n\n"
		"A: devnum=%d\\n\n"
		"A: bConfigurationValue=1\\n\n"
		"A: speed=480\\n\n"
		"H: descriptors=%s\n",
		cfg->busnum, cfg->busnum, cfg->devnum, cfg->busnum, cfg->devnum,
		cfg->busnum, cfg->devnum, u->devnode, cfg->busnum, cfg->devnum,
		hex);
	if (!umockdev_testbed_add_from_string(tb, rec, &error)) {
		fprintf(stderr, "lib_usb: add %s: %s\n", u->devnode,
			error ? error->message : "?");
		abort();
	}
	g_free(rec);
	free(hex);
	return u;
}

void qst_umock_usb_push_in(struct qst_umock_usb *u, const void *data,
			   size_t len)
{
	pthread_mutex_lock(&u->lock);
	if (u->in_len == IN_QUEUE || len > IN_MAX) {
		fprintf(stderr, "lib_usb: IN queue full or chunk too big\n");
		abort();
	}
	struct in_chunk *c = &u->in[(u->in_head + u->in_len) % IN_QUEUE];
	memcpy(c->data, data, len);
	c->len = len;
	u->in_len++;
	pthread_mutex_unlock(&u->lock);
}

size_t qst_umock_usb_in_queued(struct qst_umock_usb *u)
{
	pthread_mutex_lock(&u->lock);
	size_t n = u->in_len;
	pthread_mutex_unlock(&u->lock);
	return n;
}

unsigned long qst_umock_usb_out_count(struct qst_umock_usb *u)
{
	pthread_mutex_lock(&u->lock);
	unsigned long n = u->outs;
	pthread_mutex_unlock(&u->lock);
	return n;
}

int qst_umock_usb_claimed(struct qst_umock_usb *u)
{
	pthread_mutex_lock(&u->lock);
	int n = u->claimed;
	pthread_mutex_unlock(&u->lock);
	return n;
}

void qst_umock_usb_unplug(struct qst_umock_usb *u)
{
	pthread_mutex_lock(&u->lock);
	u->unplugged = true;
	pthread_mutex_unlock(&u->lock);
}

void qst_umock_usb_free(struct qst_umock_usb *u)
{
	if (!u)
		return;
	umockdev_testbed_detach_ioctl(u->tb, u->devnode, NULL);
	g_object_unref(u->handler);
	for (size_t i = 0; i < u->n_pending; i++)
		ref_drop(&u->pending[i]);
	for (size_t i = 0; i < u->n_done; i++)
		ref_drop(&u->done[i]);
	g_object_unref(u->tb);
	pthread_mutex_destroy(&u->lock);
	free(u->descriptors);
	free(u);
}
