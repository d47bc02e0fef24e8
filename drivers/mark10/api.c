/*
 * Mark-10 force gauge (Series 4/5, "GCL2") as a digital pressure algometer:
 * the vtable and the I/O glue around protocol.c (devices.md §4.1).
 *
 * The gauge answers questions and never volunteers (its auto-output mode
 * has an undocumented rate, gap G8), so the driver asks: `?C` for the
 * real-time reading at the configured rate, one request outstanding at a
 * time. Replies carry no tag; the gauge answers in order, so each line is
 * matched to the oldest request waiting for one. Setters (`Z`, units) get
 * no reply unless refused (`*NN`, devices.md §4.1 "Errors"), so a setter
 * waiting in front of a question is settled by whichever line comes next:
 * an error is the setter's, anything else means it passed silently.
 *
 * Opening asks RM, RV, RS (identity), sets newtons (`N`) and reads the
 * unit back from LIST, one question at a time; ready() once that is done.
 * Readings are converted from whatever unit they carry in any case, so a
 * gauge that kept lbF still reads correctly.
 */
#define LOG_PREFIX "mark10: "

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "qst_drivers.h"

/* A reply later than this is lost: count it and ask again. A USB-serial
 * bridge adds up to 16 ms (FTDI latency timer), 9600 baud ~15 ms more. */
#define REPLY_TIMEOUT_NS (100 * QST_NS_PER_MS)
/* Tell the station after this many unanswered requests in a row. */
#define STALL_REQUESTS 5
/* Polling faster than this is refused; above what the link carries, the
 * one-outstanding rule bounds the rate by the round trip anyway. */
#define MAX_RATE_HZ 1000.0
/* DFNS uses 1 cm² (qst-domain.md §2.9); tips above 10 cm² are not algometry. */
#define DEFAULT_AREA_CM2 1.0
#define MAX_AREA_CM2 10.0
#define QUEUE_MAX 16
#define NOT_SENT_YET (-1)

enum req_kind {
	REQ_SET,      /* no reply unless refused */
	REQ_MODEL,
	REQ_FIRMWARE,
	REQ_SERIAL,
	REQ_LIST,
	REQ_READ,
};

struct request {
	enum req_kind kind;
	int64_t sent_ns; /* NOT_SENT_YET until a clock has seen it */
};

struct mark10_priv {
	struct qst_mark10_parser parser;
	struct request queue[QUEUE_MAX];
	size_t n_queued;
	int identity_answers;
	bool ready;
	bool unit_refused;
	enum qst_mark10_unit list_unit; /* what LIST says the gauge shows */
	double area_cm2;
	int64_t period_ns;              /* 0: not polling */
	int64_t next_read_ns;           /* INT64_MIN: at the next chance */
	unsigned long timeouts;
	unsigned long garbled;
	int stalled_in_row;
	bool warned_unitless;
};

static struct mark10_priv *priv_of(struct qst_dev *dev)
{
	return dev ? dev->priv : NULL;
}

static const char *kind_command(enum req_kind k)
{
	switch (k) {
	case REQ_MODEL: return QST_MARK10_CMD_MODEL;
	case REQ_FIRMWARE: return QST_MARK10_CMD_FIRMWARE;
	case REQ_SERIAL: return QST_MARK10_CMD_SERIAL;
	case REQ_LIST: return QST_MARK10_CMD_LIST;
	case REQ_READ: return QST_MARK10_CMD_CURRENT;
	default: return "(setting)";
	}
}

static int send_request(struct qst_dev *dev, const char *cmd,
			enum req_kind kind, int64_t now_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	if (priv->n_queued == QUEUE_MAX) {
		qst_warn("%s not sent: %d requests already unanswered", cmd,
			 QUEUE_MAX);
		return QST_ERR_STATE;
	}
	char buf[QST_MARK10_CMD_MAX];
	int n = qst_mark10_enc(buf, sizeof(buf), cmd);
	if (n < 0)
		return n;
	int ret = qst_dev_send(dev, buf, (size_t)n);
	if (ret < 0)
		return ret;
	priv->queue[priv->n_queued++] = (struct request){ kind, now_ns };
	return QST_OK;
}

static int ask(struct qst_dev *dev, enum req_kind kind, int64_t now_ns)
{
	return send_request(dev, kind_command(kind), kind, now_ns);
}

static void pop_request(struct mark10_priv *priv)
{
	memmove(priv->queue, priv->queue + 1,
		(priv->n_queued - 1) * sizeof(priv->queue[0]));
	priv->n_queued--;
}

/* The oldest request that waits for a reply, or NULL. */
static const struct request *awaited(const struct mark10_priv *priv)
{
	for (size_t i = 0; i < priv->n_queued; i++)
		if (priv->queue[i].kind != REQ_SET)
			return &priv->queue[i];
	return NULL;
}

static int mark10_open(struct qst_dev *dev)
{
	if (!dev || !dev->transport)
		return QST_ERR_ARG;
	struct mark10_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return QST_ERR_NOMEM;
	qst_mark10_parser_init(&priv->parser);
	priv->area_cm2 = DEFAULT_AREA_CM2;
	priv->next_read_ns = INT64_MIN;
	dev->priv = priv;
	int ret = ask(dev, REQ_MODEL, NOT_SENT_YET);
	if (ret < 0) {
		free(priv);
		dev->priv = NULL;
	}
	return ret;
}

static void mark10_close(struct qst_dev *dev)
{
	if (!dev)
		return;
	struct mark10_priv *priv = priv_of(dev);
	if (priv && (priv->timeouts || priv->garbled))
		qst_info("%lu requests unanswered, %lu garbled replies, %lu "
			 "corrupt lines", priv->timeouts, priv->garbled,
			 priv->parser.dropped);
	free(dev->priv);
	dev->priv = NULL;
}

static bool mark10_ready(struct qst_dev *dev)
{
	struct mark10_priv *priv = priv_of(dev);
	return priv && priv->ready;
}

/* ---------------------------------------------------------- identity */

static void emit_text(struct qst_dev *dev, enum qst_event_type type,
		      int64_t t_ns, const char *text)
{
	struct qst_event ev = { .t_ns = t_ns, .type = type };
	snprintf(ev.u.text, sizeof(ev.u.text), "%.95s", text); /* QST_EVENT_TEXT_MAX */
	qst_dev_emit(dev, &ev);
}

static void finish_identity(struct qst_dev *dev)
{
	struct mark10_priv *priv = priv_of(dev);
	if (priv->identity_answers == 0) {
		qst_err("no identity: RM, RV and RS were all refused; not a "
			"Mark-10 gauge?");
		return;
	}
	if (priv->list_unit != QST_MARK10_UNIT_UNKNOWN &&
	    priv->list_unit != QST_MARK10_UNIT_N)
		qst_warn("gauge stays in %s after `N`; readings are converted",
			 qst_mark10_unit_label(priv->list_unit));
	priv->ready = true;
	qst_info("%s, firmware %s, serial %s", dev->info.model,
		 dev->info.firmware, dev->info.serial);
}

/* The next identification step after an answer to `kind`. */
static void identify_next(struct qst_dev *dev, enum req_kind kind,
			  int64_t t_ns)
{
	switch (kind) {
	case REQ_MODEL:
		ask(dev, REQ_FIRMWARE, t_ns);
		break;
	case REQ_FIRMWARE:
		ask(dev, REQ_SERIAL, t_ns);
		break;
	case REQ_SERIAL:
		/* Newtons, then read the unit back: setters are not ACKed. */
		if (send_request(dev, qst_mark10_unit_command(QST_MARK10_UNIT_N),
				 REQ_SET, t_ns) == QST_OK)
			ask(dev, REQ_LIST, t_ns);
		break;
	case REQ_LIST:
		finish_identity(dev);
		break;
	default:
		break;
	}
}

static void store_identity(struct qst_dev *dev, enum req_kind kind,
			   const struct qst_mark10_item *item)
{
	struct mark10_priv *priv = priv_of(dev);
	if (item->type == QST_MARK10_ITEM_ERROR) {
		qst_dbg("%s refused (*%d)", kind_command(kind), item->error);
		return;
	}
	char *dst = kind == REQ_MODEL ? dev->info.model :
		    kind == REQ_FIRMWARE ? dev->info.firmware :
		    dev->info.serial;
	snprintf(dst, sizeof(dev->info.model), "%.63s", item->text);
	priv->identity_answers++;
}

static void take_list(struct qst_dev *dev, const struct qst_mark10_item *item)
{
	struct mark10_priv *priv = priv_of(dev);
	enum qst_mark10_unit u;
	if (item->type != QST_MARK10_ITEM_ERROR &&
	    qst_mark10_parse_list_unit(item->text, strlen(item->text), &u) ==
		    QST_OK)
		priv->list_unit = u;
	else
		qst_dbg("LIST gave no unit (\"%s\")", item->text);
}

/* ---------------------------------------------------------- readings */

/* The unit of a reading: its own, else LIST's, else the one we set. */
static enum qst_mark10_unit reading_unit(struct mark10_priv *priv,
					 const struct qst_mark10_reading *r)
{
	if (r->unit != QST_MARK10_UNIT_UNKNOWN)
		return r->unit;
	if (priv->list_unit != QST_MARK10_UNIT_UNKNOWN)
		return priv->list_unit;
	return priv->unit_refused ? QST_MARK10_UNIT_UNKNOWN : QST_MARK10_UNIT_N;
}

static void emit_reading(struct qst_dev *dev, const struct qst_mark10_reading *r,
			 int64_t t_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	enum qst_mark10_unit unit = reading_unit(priv, r);
	if (unit == QST_MARK10_UNIT_UNKNOWN) {
		if (!priv->warned_unitless)
			qst_warn("readings carry no unit and the gauge's unit "
				 "is unknown: dropped");
		priv->warned_unitless = true;
		return;
	}
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_PRESSURE };
	ev.u.pressure.force_n = r->value * qst_mark10_unit_newtons(unit);
	/* 1 N/cm² = 10 kPa (qst-domain.md §2.9) */
	ev.u.pressure.kpa = ev.u.pressure.force_n / priv->area_cm2 * 10.0;
	qst_dev_emit(dev, &ev);
}

static void take_read_reply(struct qst_dev *dev,
			    const struct qst_mark10_item *item, int64_t t_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	if (item->type == QST_MARK10_ITEM_READING) {
		emit_reading(dev, &item->reading, t_ns);
	} else if (item->type == QST_MARK10_ITEM_ERROR) {
		qst_warn("?C refused (*%d)", item->error);
		emit_text(dev, QST_EV_DEVICE_TEXT, t_ns, item->text);
	} else {
		priv->garbled++;
		qst_dbg("garbled reading \"%s\"", item->text);
	}
}

/* ------------------------------------------------- matching replies */

/* Setters in front: an error is theirs, any other line means they passed. */
static bool settle_setters(struct qst_dev *dev,
			   const struct qst_mark10_item *item, int64_t t_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	while (priv->n_queued > 0 && priv->queue[0].kind == REQ_SET) {
		pop_request(priv);
		if (item->type == QST_MARK10_ITEM_ERROR) {
			qst_warn("a setting was refused (*%d)", item->error);
			if (!priv->ready)
				priv->unit_refused = true;
			emit_text(dev, QST_EV_DEVICE_TEXT, t_ns, item->text);
			return true;
		}
	}
	return false;
}

static void take_item(struct qst_dev *dev, const struct qst_mark10_item *item,
		      int64_t t_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	if (settle_setters(dev, item, t_ns))
		return;
	if (priv->n_queued == 0) {
		/* Unasked: a gauge left in auto-output mode streams readings. */
		if (item->type == QST_MARK10_ITEM_READING)
			emit_reading(dev, &item->reading, t_ns);
		else
			emit_text(dev, QST_EV_DEVICE_TEXT, t_ns, item->text);
		return;
	}
	enum req_kind kind = priv->queue[0].kind;
	pop_request(priv);
	priv->stalled_in_row = 0;
	if (kind == REQ_READ) {
		take_read_reply(dev, item, t_ns);
		return;
	}
	emit_text(dev, QST_EV_DEVICE_TEXT, t_ns, item->text);
	if (kind == REQ_LIST)
		take_list(dev, item);
	else
		store_identity(dev, kind, item);
	identify_next(dev, kind, t_ns);
}

/* --------------------------------------------------------- polling */

static bool read_due(const struct mark10_priv *priv, int64_t now_ns)
{
	return priv->ready && priv->period_ns > 0 && !awaited(priv) &&
	       now_ns >= priv->next_read_ns;
}

static void send_read(struct qst_dev *dev, int64_t now_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	if (ask(dev, REQ_READ, now_ns) < 0)
		return;
	/* Keep the grid; when behind, ask again as soon as this is answered. */
	if (priv->next_read_ns == INT64_MIN)
		priv->next_read_ns = now_ns;
	priv->next_read_ns += priv->period_ns;
	if (priv->next_read_ns < now_ns)
		priv->next_read_ns = now_ns;
}

static void mark10_receive(struct qst_dev *dev, const uint8_t *buf, size_t len,
			   int64_t t_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	if (!priv || !buf)
		return;
	size_t off = 0;
	while (off < len) {
		struct qst_mark10_item item;
		off += qst_mark10_parser_feed(&priv->parser, buf + off,
					      len - off, &item);
		if (item.type != QST_MARK10_ITEM_NONE)
			take_item(dev, &item, t_ns);
	}
	if (read_due(priv, t_ns))
		send_read(dev, t_ns);
}

/* Forget what was asked (its reply is lost) and ask again. */
static void handle_timeout(struct qst_dev *dev, const struct request *r,
			   int64_t now_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	enum req_kind kind = r->kind;
	priv->timeouts++;
	priv->n_queued = 0;
	if (++priv->stalled_in_row == STALL_REQUESTS) {
		char text[QST_EVENT_TEXT_MAX];
		snprintf(text, sizeof(text), "mark10: no reply to %d requests "
			 "in a row", STALL_REQUESTS);
		qst_warn("%s", text + 8);
		emit_text(dev, QST_EV_DEVICE_FAULT, now_ns, text);
	}
	qst_dbg("no reply to %s within %d ms (%lu so far)", kind_command(kind),
		(int)(REPLY_TIMEOUT_NS / QST_NS_PER_MS), priv->timeouts);
	if (kind != REQ_READ)
		ask(dev, kind, now_ns);
}

static int64_t mark10_poll(struct qst_dev *dev, int64_t now_ns)
{
	struct mark10_priv *priv = priv_of(dev);
	if (!priv)
		return INT64_MAX;
	for (size_t i = 0; i < priv->n_queued; i++)
		if (priv->queue[i].sent_ns == NOT_SENT_YET)
			priv->queue[i].sent_ns = now_ns;
	const struct request *r = awaited(priv);
	if (r && now_ns - r->sent_ns >= REPLY_TIMEOUT_NS) {
		handle_timeout(dev, r, now_ns);
		r = awaited(priv);
	}
	if (!r && read_due(priv, now_ns)) {
		send_read(dev, now_ns);
		r = awaited(priv);
	}
	int64_t due = r ? r->sent_ns + REPLY_TIMEOUT_NS : INT64_MAX;
	if (priv->ready && priv->period_ns > 0) {
		/* While a reply is late, look again every period: receive()
		 * cannot move the station's schedule forward. */
		int64_t next = priv->next_read_ns > now_ns ?
				       priv->next_read_ns :
				       now_ns + priv->period_ns;
		if (next < due)
			due = next;
	}
	return due;
}

/* --------------------------------------------------------- pressure ops */

static int mark10_zero(struct qst_dev *dev)
{
	if (!priv_of(dev))
		return QST_ERR_STATE;
	return send_request(dev, QST_MARK10_CMD_ZERO, REQ_SET, NOT_SENT_YET);
}

static int mark10_set_probe_area(struct qst_dev *dev, double cm2)
{
	struct mark10_priv *priv = priv_of(dev);
	if (!priv)
		return QST_ERR_STATE;
	if (!isfinite(cm2) || cm2 <= 0 || cm2 > MAX_AREA_CM2) {
		qst_warn("probe area %g cm² refused: must be in (0, %g]", cm2,
			 MAX_AREA_CM2);
		return QST_ERR_ARG;
	}
	priv->area_cm2 = cm2;
	return QST_OK;
}

static int mark10_set_rate(struct qst_dev *dev, double hz)
{
	struct mark10_priv *priv = priv_of(dev);
	if (!priv)
		return QST_ERR_STATE;
	if (!isfinite(hz) || hz < 0 || hz > MAX_RATE_HZ) {
		qst_warn("polling rate %g Hz refused: must be in [0, %g]", hz,
			 MAX_RATE_HZ);
		return QST_ERR_ARG;
	}
	priv->period_ns = hz > 0 ? qst_s_to_ns(1.0 / hz) : 0;
	if (priv->period_ns == 0 && hz > 0)
		priv->period_ns = 1;
	priv->next_read_ns = INT64_MIN;
	return QST_OK;
}

static const struct qst_pressure_ops mark10_pressure_ops = {
	.zero = mark10_zero,
	.set_probe_area = mark10_set_probe_area,
	.set_rate = mark10_set_rate,
};

const struct qst_driver qst_driver_mark10 = {
	.name = "mark10",
	.longname = "Mark-10 force gauge (pressure algometer)",
	.dev_class = QST_DEV_PRESSURE,
	.open = mark10_open,
	.close = mark10_close,
	.ready = mark10_ready,
	.receive = mark10_receive,
	.poll = mark10_poll,
	.class_ops = &mark10_pressure_ops,
	/* devices.md §4.1: 8N1; the baud is chosen in the gauge's menu (gap
	 * G8), so the station file's `baud` must match it. */
	.link = { .kind = QST_LINK_SERIAL, .serial = { 115200, 8, 'N', 1 } },
};
