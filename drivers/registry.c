/*
 * The static driver table and the small helpers every driver shares.
 */
#define LOG_PREFIX "drivers: "

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "qst_drivers.h"

/* Long enough for a USB-serial bridge to drain a short command. */
#define DEV_SEND_TIMEOUT_MS 100

extern const struct qst_driver qst_driver_tcs2;
extern const struct qst_driver qst_driver_xid;
extern const struct qst_driver qst_driver_mark10;
extern const struct qst_driver qst_driver_fgen;
extern const struct qst_driver qst_driver_evas;
extern const struct qst_driver qst_driver_triggerbox;
extern const struct qst_driver qst_driver_mmbts;
extern const struct qst_driver qst_driver_hidpedal;

static const struct qst_driver *const drivers[] = {
	&qst_driver_tcs2,
	&qst_driver_xid,
	&qst_driver_mark10,
	&qst_driver_fgen,
	&qst_driver_evas,
	&qst_driver_triggerbox,
	&qst_driver_mmbts,
	&qst_driver_hidpedal,
	NULL,
};

const struct qst_driver *const *qst_drivers_list(void)
{
	return drivers;
}

const char *qst_dev_class_name(enum qst_dev_class cls)
{
	switch (cls) {
	case QST_DEV_THERMAL: return "thermal";
	case QST_DEV_RESPONSE: return "response";
	case QST_DEV_PRESSURE: return "pressure";
	case QST_DEV_VIBRATION: return "vibration";
	case QST_DEV_RATING: return "rating";
	case QST_DEV_SYNC: return "sync";
	}
	return "?";
}

const struct qst_driver *qst_driver_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; drivers[i]; i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

static bool lists_id(const char *const *ids, const char *id)
{
	for (; ids && *ids; ids++)
		if (!strcasecmp(*ids, id))
			return true;
	return false;
}

int qst_drivers_for_usb(uint16_t vid, uint16_t pid, bool usbtmc,
			const struct qst_driver **out, int max)
{
	char id[16];
	snprintf(id, sizeof(id), "%04x:%04x", vid, pid);
	int n = 0;
	for (size_t i = 0; drivers[i] && n < max; i++) {
		const struct qst_driver *d = drivers[i];
		bool tmc = d->link.kind == QST_LINK_USB && d->link.usb == QST_USB_TMC;
		if (lists_id(d->usb_ids, id) || (usbtmc && tmc))
			out[n++] = d;
	}
	return n;
}

void qst_dev_emit(struct qst_dev *dev, struct qst_event *ev)
{
	if (!dev || !ev)
		return;
	ev->device = dev->index;
	if (dev->sink.fn)
		dev->sink.fn(ev, dev->sink.user);
}

void qst_dev_emit_noise(struct qst_dev *dev, unsigned long before,
			unsigned long after, int64_t t_ns)
{
	if (after <= before)
		return;
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_LINK_NOISE };
	ev.u.noise_bytes = after - before;
	qst_dbg("%s: %lu corrupt bytes discarded", dev->driver->name,
		after - before);
	qst_dev_emit(dev, &ev);
}

/* Printable form of command bytes for the spew log: binary as \xNN. */
static void escape_bytes(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
	}
	out[o] = '\0';
}

int qst_dev_send(struct qst_dev *dev, const void *buf, size_t len)
{
	if (!dev || !dev->transport || (!buf && len > 0))
		return QST_ERR_ARG;
	if (qst_log_get_level() >= QST_LOG_SPEW) {
		char text[256];
		escape_bytes(buf, len, text, sizeof(text));
		qst_spew("%s > %s: \"%s\"", dev->driver ? dev->driver->name : "?",
			 dev->transport->description, text);
	}
	int ret = qst_transport_write(dev->transport, buf, len,
				      DEV_SEND_TIMEOUT_MS);
	if (ret < 0)
		qst_warn("%s: sending %zu bytes failed: %s",
			 dev->driver ? dev->driver->name : "?", len,
			 qst_strerror(ret));
	return ret;
}
