/*
 * Cedrus XID response pad driver: the vtable and the I/O glue around
 * protocol.c. Key packets carry the pad's own reaction time; both it and
 * the host arrival time go into the event (devices.md "Driver rules").
 */
#define LOG_PREFIX "xid: "

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "qst_drivers.h"

struct xid_priv {
	struct qst_xid_parser parser;
	bool ready;
	bool mode_switch_sent;
};

static struct xid_priv *priv_of(struct qst_dev *dev)
{
	return dev ? dev->priv : NULL;
}

static int send_cmd(struct qst_dev *dev, const char *cmd)
{
	return qst_dev_send(dev, cmd, strlen(cmd));
}

/* Identify by probe, not by VID:PID (devices.md §3.2, §3.3). */
static int xid_open(struct qst_dev *dev)
{
	if (!dev || !dev->transport)
		return QST_ERR_ARG;
	struct xid_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return QST_ERR_NOMEM;
	qst_xid_parser_init(&priv->parser);
	dev->priv = priv;
	int ret = send_cmd(dev, QST_XID_CMD_PROBE);
	if (ret < 0) {
		free(priv);
		dev->priv = NULL;
	}
	return ret;
}

static void xid_close(struct qst_dev *dev)
{
	if (!dev)
		return;
	free(dev->priv);
	dev->priv = NULL;
}

static bool xid_ready(struct qst_dev *dev)
{
	struct xid_priv *priv = priv_of(dev);
	return priv && priv->ready;
}

/*
 * A pad in a keyboard/PST mode answers `_xidN` with N != 0; `c10` switches
 * it to XID mode and a second probe confirms (devices.md §3.3, gap G7).
 */
static void handle_protocol(struct qst_dev *dev, int protocol, int64_t t_ns)
{
	struct xid_priv *priv = priv_of(dev);
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_DEVICE_TEXT };
	snprintf(ev.u.text, sizeof(ev.u.text), "_xid%d", protocol);
	qst_dev_emit(dev, &ev);
	if (protocol == 0) {
		snprintf(dev->info.model, sizeof(dev->info.model),
			 "Cedrus XID response pad");
		snprintf(dev->info.firmware, sizeof(dev->info.firmware),
			 "XID mode");
		priv->ready = true;
		return;
	}
	if (priv->mode_switch_sent) {
		qst_warn("pad stays in protocol %d after c10", protocol);
		return;
	}
	qst_info("pad in protocol %d, switching to XID mode", protocol);
	priv->mode_switch_sent = true;
	if (send_cmd(dev, QST_XID_CMD_XID_MODE) == QST_OK)
		send_cmd(dev, QST_XID_CMD_PROBE);
}

static void emit_key(struct qst_dev *dev, const struct qst_xid_key *key,
		     int64_t t_ns)
{
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_BUTTON };
	ev.u.button.key = key->key;
	ev.u.button.pressed = key->pressed;
	ev.u.button.device_rt_ms = key->rt_ms;
	if (key->port != 0)
		qst_dbg("key %d on port %d", key->key, key->port);
	qst_dev_emit(dev, &ev);
}

static void xid_receive(struct qst_dev *dev, const uint8_t *buf, size_t len,
			int64_t t_ns)
{
	struct xid_priv *priv = priv_of(dev);
	if (!priv || !buf)
		return;
	size_t off = 0;
	unsigned long noise = priv->parser.garbage;
	while (off < len) {
		struct qst_xid_item item;
		off += qst_xid_parser_feed(&priv->parser, buf + off, len - off,
					   &item);
		if (item.type == QST_XID_ITEM_KEY)
			emit_key(dev, &item.key, t_ns);
		else if (item.type == QST_XID_ITEM_PROTOCOL)
			handle_protocol(dev, item.protocol, t_ns);
	}
	qst_dev_emit_noise(dev, noise, priv->parser.garbage, t_ns);
}

static int xid_reset_timer(struct qst_dev *dev)
{
	if (!priv_of(dev))
		return QST_ERR_STATE;
	return send_cmd(dev, QST_XID_CMD_RESET_TIMER);
}

static const struct qst_response_ops xid_response_ops = {
	.reset_timer = xid_reset_timer,
};

const struct qst_driver qst_driver_xid = {
	.name = "xid",
	.longname = "Cedrus XID response pad",
	.dev_class = QST_DEV_RESPONSE,
	.open = xid_open,
	.close = xid_close,
	.ready = xid_ready,
	.receive = xid_receive,
	.class_ops = &xid_response_ops,
	/* devices.md §3.2: 115200 is the default of the selectable rates,
	 * 8N1, no flow control (high). */
	.link = { .kind = QST_LINK_SERIAL, .serial = { 115200, 8, 'N', 1 } },
	/* devices.md §3.2 / G7: FTDI's default id, probably (low). */
	.usb_ids = (const char *const[]){ "0403:6001", NULL },
};
