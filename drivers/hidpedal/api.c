/*
 * USB HID foot pedal (Infinity IN-USB-2, devices.md §7) as a response
 * device: the vtable and the glue around protocol.c. It runs on the USB
 * transport opened with QST_USB_INTERRUPT_IN, where every chunk is one
 * report, stamped when its transfer completed (docs/devices.md, "USB
 * transport").
 *
 * The pedal has no command set: nothing to probe, no timer of its own.
 * It is ready as soon as it is open; its identity is the USB descriptor
 * the transport describes itself with.
 */
#define LOG_PREFIX "hidpedal: "

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "qst_drivers.h"

struct hidpedal_priv {
	struct qst_hidpedal_parser parser;
};

static struct hidpedal_priv *priv_of(struct qst_dev *dev)
{
	return dev ? dev->priv : NULL;
}

static int hidpedal_open(struct qst_dev *dev)
{
	if (!dev || !dev->transport)
		return QST_ERR_ARG;
	struct hidpedal_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return QST_ERR_NOMEM;
	qst_hidpedal_parser_init(&priv->parser);
	dev->priv = priv;
	snprintf(dev->info.model, sizeof(dev->info.model), "%.63s",
		 dev->transport->description);
	snprintf(dev->info.firmware, sizeof(dev->info.firmware), "HID");
	qst_info("foot pedal on %s", dev->transport->description);
	return QST_OK;
}

static void hidpedal_close(struct qst_dev *dev)
{
	if (!dev)
		return;
	free(dev->priv);
	dev->priv = NULL;
}

static bool hidpedal_ready(struct qst_dev *dev)
{
	return priv_of(dev) != NULL;
}

static void hidpedal_receive(struct qst_dev *dev, const uint8_t *buf,
			     size_t len, int64_t t_ns)
{
	struct hidpedal_priv *priv = priv_of(dev);
	if (!priv || !buf)
		return;
	struct qst_hidpedal_change ch[QST_HIDPEDAL_KEYS];
	unsigned long noise = priv->parser.noise;
	int n = qst_hidpedal_feed(&priv->parser, buf, len, ch,
				  QST_HIDPEDAL_KEYS);
	for (int i = 0; i < n; i++) {
		struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_BUTTON };
		ev.u.button.key = ch[i].key;
		ev.u.button.pressed = ch[i].pressed;
		ev.u.button.device_rt_ms = -1; /* the pedal keeps no time */
		qst_dev_emit(dev, &ev);
	}
	qst_dev_emit_noise(dev, noise, priv->parser.noise, t_ns);
}

/* No device timer: reaction times come from the arrival stamps alone. */
static int hidpedal_reset_timer(struct qst_dev *dev)
{
	return priv_of(dev) ? QST_OK : QST_ERR_STATE;
}

static const struct qst_response_ops hidpedal_response_ops = {
	.reset_timer = hidpedal_reset_timer,
};

const struct qst_driver qst_driver_hidpedal = {
	.name = "hidpedal",
	.longname = "USB HID foot pedal (Infinity IN-USB-2)",
	.dev_class = QST_DEV_RESPONSE,
	.open = hidpedal_open,
	.close = hidpedal_close,
	.ready = hidpedal_ready,
	.receive = hidpedal_receive,
	.class_ops = &hidpedal_response_ops,
	/* devices.md §7: interrupt-IN reports through libusb. */
	.link = { .kind = QST_LINK_USB, .usb = QST_USB_INTERRUPT_IN },
	/* devices.md §7: Infinity IN-USB-2 (medium). */
	.usb_ids = (const char *const[]){ "05f3:00ff", NULL },
};
