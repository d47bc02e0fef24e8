/*
 * TTL trigger boxes for EEG/fMRI markers (devices.md §6): the Brain
 * Products TriggerBox (`1103:0021`, FTDI virtual serial port) and the
 * Neurospec MMBT-S (USB-serial, 9600 baud). Both take one byte as the
 * output pattern and hold it; they share this code and differ in their
 * closing byte and in the TriggerBox's input port.
 *
 * send() only queues, so it never sleeps: poll() writes the code and
 * emits QST_EV_SYNC stamped when it wrote it, returns when the reset is
 * due, and at that poll writes 0x00 and emits QST_EV_SYNC with code 0.
 * A send while a code is held (or queued) waits its turn: it goes out
 * after the reset plus QST_TRIGGER_LOW_MIN_MS, so no two codes merge on
 * the line and none is lost; the SYNC event carries the real moment. A
 * full queue refuses the code with QST_ERR_STATE, logged.
 *
 * A failed write is reported as QST_EV_DEVICE_FAULT and not retried: a
 * code that missed its moment is worse than none, and a box that takes
 * no byte is gone. Neither box can be identified (no command is known),
 * so ready() is true as soon as open() has written the initial 0x00.
 */
#define LOG_PREFIX "trigger: "

#include <stdio.h>
#include <stdlib.h>

#include "protocol.h"
#include "qst_drivers.h"

struct box_kind {
	const char *model;
	uint8_t close_byte;
	bool has_inputs; /* sends its input-port state back */
};

static const struct box_kind triggerbox_kind = {
	"Brain Products TriggerBox (unidentified)", QST_TRIGGERBOX_CLOSE, true,
};

static const struct box_kind mmbts_kind = {
	"Neurospec MMBT-S (unidentified)", QST_MMBTS_CLOSE, false,
};

struct trigger_priv {
	const struct box_kind *kind;
	struct qst_trigger_sched sched;
	struct qst_trigger_inputs inputs;
	unsigned long stray_bytes; /* from a box that sends nothing */
};

static struct trigger_priv *priv_of(struct qst_dev *dev)
{
	return dev ? dev->priv : NULL;
}

static int write_byte(struct qst_dev *dev, uint8_t b)
{
	return qst_dev_send(dev, &b, 1);
}

static int trigger_open(struct qst_dev *dev, const struct box_kind *kind)
{
	if (!dev || !dev->transport)
		return QST_ERR_ARG;
	struct trigger_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return QST_ERR_NOMEM;
	priv->kind = kind;
	qst_trigger_sched_init(&priv->sched);
	qst_trigger_inputs_init(&priv->inputs);
	dev->priv = priv;
	/* Start from a known low line (BP sample code writes 0x00 first). */
	int ret = write_byte(dev, QST_TRIGGER_RESET);
	if (ret < 0) {
		free(priv);
		dev->priv = NULL;
		return ret;
	}
	snprintf(dev->info.model, sizeof(dev->info.model), "%s", kind->model);
	return QST_OK;
}

static int triggerbox_open(struct qst_dev *dev)
{
	return trigger_open(dev, &triggerbox_kind);
}

static int mmbts_open(struct qst_dev *dev)
{
	return trigger_open(dev, &mmbts_kind);
}

/* Codes still queued are said to be lost, not dropped quietly. */
static void trigger_close(struct qst_dev *dev)
{
	struct trigger_priv *priv = priv_of(dev);
	if (!priv)
		return;
	size_t pending = qst_trigger_sched_pending(&priv->sched);
	if (pending > 0)
		qst_warn("closing with %zu trigger codes never sent", pending);
	write_byte(dev, priv->kind->close_byte);
	qst_info("%lu codes sent, %lu writes failed", priv->sched.codes,
		 priv->sched.failed);
	free(dev->priv);
	dev->priv = NULL;
}

static bool trigger_ready(struct qst_dev *dev)
{
	return priv_of(dev) != NULL;
}

static void trigger_receive(struct qst_dev *dev, const uint8_t *buf,
			    size_t len, int64_t t_ns)
{
	struct trigger_priv *priv = priv_of(dev);
	if (!priv || !buf)
		return;
	if (!priv->kind->has_inputs) {
		/* The MMBT-S is not known to send anything. */
		unsigned long before = priv->stray_bytes;
		priv->stray_bytes += len;
		qst_dev_emit_noise(dev, before, priv->stray_bytes, t_ns);
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (qst_trigger_inputs_take(&priv->inputs, buf[i]))
			qst_dbg("input port 0x%02x", buf[i]);
}

static void emit_sync(struct qst_dev *dev, const struct qst_trigger_pulse *p,
		      int64_t t_ns)
{
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_SYNC };
	ev.u.sync.code = p->code;
	ev.u.sync.pulse_ms = p->pulse_ms;
	qst_dev_emit(dev, &ev);
}

static void emit_failure(struct qst_dev *dev, const struct qst_trigger_pulse *p,
			 int err, int64_t t_ns)
{
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_DEVICE_FAULT };
	snprintf(ev.u.text, sizeof(ev.u.text), "%s: %s 0x%02x not written: %s",
		 dev->driver->name, p->code ? "code" : "reset", p->code,
		 qst_strerror(err));
	qst_warn("%s", ev.u.text);
	qst_dev_emit(dev, &ev);
}

static int64_t trigger_poll(struct qst_dev *dev, int64_t now_ns)
{
	struct trigger_priv *priv = priv_of(dev);
	if (!priv)
		return INT64_MAX;
	struct qst_trigger_pulse p;
	while (qst_trigger_sched_due_byte(&priv->sched, now_ns, &p)) {
		int ret = write_byte(dev, p.code);
		if (ret < 0) {
			emit_failure(dev, &p, ret, now_ns);
			qst_trigger_sched_failed(&priv->sched, now_ns);
		} else {
			emit_sync(dev, &p, now_ns);
			qst_trigger_sched_sent(&priv->sched, now_ns);
		}
	}
	return qst_trigger_sched_next_due(&priv->sched);
}

static int trigger_send(struct qst_dev *dev, uint8_t code, int pulse_ms)
{
	struct trigger_priv *priv = priv_of(dev);
	if (!priv)
		return QST_ERR_STATE;
	int ret = qst_trigger_sched_push(&priv->sched, code, pulse_ms);
	if (ret == QST_ERR_ARG)
		qst_warn("code %u for %d ms refused: codes are 1..255 (0 is the "
			 "reset), pulses 1..%d ms", code, pulse_ms,
			 QST_TRIGGER_PULSE_MAX_MS);
	else if (ret == QST_ERR_STATE)
		qst_warn("code %u refused: %d codes already waiting", code,
			 QST_TRIGGER_QUEUE_MAX);
	return ret;
}

static const struct qst_sync_ops trigger_sync_ops = {
	.send = trigger_send,
};

const struct qst_driver qst_driver_triggerbox = {
	.name = "triggerbox",
	.longname = "Brain Products TriggerBox (TTL markers)",
	.dev_class = QST_DEV_SYNC,
	.open = triggerbox_open,
	.close = trigger_close,
	.ready = trigger_ready,
	.receive = trigger_receive,
	.poll = trigger_poll,
	.class_ops = &trigger_sync_ops,
	/* devices.md §6: an FTDI virtual serial port; its baud rate is not
	 * documented (gap G10), 115200 8N1 until a unit says otherwise. */
	.link = { .kind = QST_LINK_SERIAL, .serial = { 115200, 8, 'N', 1 } },
	/* devices.md §6: the FT2232H with Brain Products' own id (high). */
	.usb_ids = (const char *const[]){ "1103:0021", NULL },
};

const struct qst_driver qst_driver_mmbts = {
	.name = "mmbts",
	.longname = "Neurospec MMBT-S trigger interface (TTL markers)",
	.dev_class = QST_DEV_SYNC,
	.open = mmbts_open,
	.close = trigger_close,
	.ready = trigger_ready,
	.receive = trigger_receive,
	.poll = trigger_poll,
	.class_ops = &trigger_sync_ops,
	/* devices.md §6: 9600 baud (medium, two client sources). */
	.link = { .kind = QST_LINK_SERIAL, .serial = { 9600, 8, 'N', 1 } },
};
