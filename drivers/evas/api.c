/*
 * QST.Lab eVAS rating slider: the vtable and the I/O glue around
 * protocol.c (devices.md §1.7; 115200 8N1, a port of its own).
 *
 * The slider streams lines unsolicited and no host→device command is
 * known (gap G5), so the driver only listens:
 * - open() sends nothing and the device is ready at once: there is no
 *   identification to wait for, and a slider nobody touches may stay
 *   silent. The model reads "QST.Lab eVAS (unidentified)" to say so;
 *   whether the port really holds an eVAS shows only when lines arrive.
 * - A rating is raw / full scale × 100 (full scale 100 unless configured
 *   with set_full_scale, since the range is unknown). A raw value outside
 *   0..full scale is clamped to 0 or 100 and the event keeps the raw
 *   number, so it stays visible; the driver counts them and warns once.
 * - `L`, `C`, `R` pass through as markers of unknown meaning; `999` is
 *   the sentinel, marker 'S', unless the full scale reaches 999, when it
 *   can only be read as a rating (the set_full_scale warning says so).
 * - Lines that parse as nothing are dropped and reported as link noise.
 */
#define LOG_PREFIX "evas: "

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol.h"
#include "qst_drivers.h"

struct evas_priv {
	struct qst_evas_parser parser;
	int full_scale;
	unsigned long clamped;
};

static struct evas_priv *priv_of(struct qst_dev *dev)
{
	return dev ? dev->priv : NULL;
}

static int evas_open(struct qst_dev *dev)
{
	if (!dev || !dev->transport)
		return QST_ERR_ARG;
	struct evas_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return QST_ERR_NOMEM;
	qst_evas_parser_init(&priv->parser);
	priv->full_scale = QST_EVAS_DEFAULT_FULL_SCALE;
	dev->priv = priv;
	snprintf(dev->info.model, sizeof(dev->info.model),
		 "QST.Lab eVAS (unidentified)");
	qst_info("the eVAS has no identification command (devices.md gap G5): "
		 "ready without one on %s", dev->transport->description);
	return QST_OK;
}

static void evas_close(struct qst_dev *dev)
{
	if (!dev)
		return;
	struct evas_priv *priv = priv_of(dev);
	if (priv)
		qst_info("%lu ratings (%lu clamped), %lu markers, %lu lines "
			 "dropped", priv->parser.ratings, priv->clamped,
			 priv->parser.markers, priv->parser.dropped);
	free(dev->priv);
	dev->priv = NULL;
}

static bool evas_ready(struct qst_dev *dev)
{
	return priv_of(dev) != NULL;
}

static void emit_rating(struct qst_dev *dev, int32_t raw, int64_t t_ns)
{
	struct evas_priv *priv = priv_of(dev);
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_RATING };
	ev.u.rating.raw = raw;
	if (qst_evas_scale(raw, priv->full_scale, &ev.u.rating.value)) {
		if (priv->clamped++ == 0)
			qst_warn("rating %ld outside 0..%d: clamped (is the full "
				 "scale right?)", (long)raw, priv->full_scale);
	}
	qst_dev_emit(dev, &ev);
}

static void emit_marker(struct qst_dev *dev, const struct qst_evas_item *item,
			int64_t t_ns)
{
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_RATING };
	ev.u.rating.value = NAN;
	ev.u.rating.raw = item->raw;
	ev.u.rating.marker = item->marker;
	qst_dbg("marker %c", item->marker);
	qst_dev_emit(dev, &ev);
}

static void take_item(struct qst_dev *dev, const struct qst_evas_item *item,
		      int64_t t_ns)
{
	struct evas_priv *priv = priv_of(dev);
	if (item->type == QST_EVAS_ITEM_RATING ||
	    (item->type == QST_EVAS_ITEM_SENTINEL &&
	     priv->full_scale >= QST_EVAS_SENTINEL))
		emit_rating(dev, item->raw, t_ns);
	else
		emit_marker(dev, item, t_ns);
}

static void evas_receive(struct qst_dev *dev, const uint8_t *buf, size_t len,
			 int64_t t_ns)
{
	struct evas_priv *priv = priv_of(dev);
	if (!priv || !buf)
		return;
	size_t off = 0;
	unsigned long noise = priv->parser.discarded;
	while (off < len) {
		struct qst_evas_item item;
		off += qst_evas_parser_feed(&priv->parser, buf + off, len - off,
					    &item);
		if (item.type != QST_EVAS_ITEM_NONE)
			take_item(dev, &item, t_ns);
	}
	qst_dev_emit_noise(dev, noise, priv->parser.discarded, t_ns);
}

static int evas_set_full_scale(struct qst_dev *dev, int raw_full_scale)
{
	struct evas_priv *priv = priv_of(dev);
	if (!priv)
		return QST_ERR_STATE;
	if (raw_full_scale < 1 || raw_full_scale > QST_EVAS_MAX_FULL_SCALE) {
		qst_warn("full scale %d refused: must be in 1..%d",
			 raw_full_scale, QST_EVAS_MAX_FULL_SCALE);
		return QST_ERR_ARG;
	}
	if (raw_full_scale >= QST_EVAS_SENTINEL)
		qst_warn("full scale %d: `999` is read as a rating, not as the "
			 "sentinel", raw_full_scale);
	priv->full_scale = raw_full_scale;
	priv->clamped = 0;
	return QST_OK;
}

static const struct qst_rating_ops evas_rating_ops = {
	.set_full_scale = evas_set_full_scale,
};

const struct qst_driver qst_driver_evas = {
	.name = "evas",
	.longname = "QST.Lab eVAS rating slider",
	.dev_class = QST_DEV_RATING,
	.open = evas_open,
	.close = evas_close,
	.ready = evas_ready,
	.receive = evas_receive,
	.class_ops = &evas_rating_ops,
	/* devices.md §1.7: its own port at 115200 (medium); framing as the
	 * TCS it pairs with. */
	.link = { .kind = QST_LINK_SERIAL, .serial = { 115200, 8, 'N', 1 } },
};
