/*
 * SCPI function generator driving a mini-shaker (vibration stimulator):
 * the vtable and the I/O glue around protocol.c (devices.md §5.1).
 *
 * This driver speaks newline-terminated SCPI text over whatever transport
 * it is given: the in-process pipe in simulation, USB-TMC on a real
 * generator. The USB-TMC bulk headers (devices.md "USB-TMC framing") are
 * added and stripped below it, in drivers/usbtmc.c and the USB transport
 * (drivers/transport_usb.c), so this code sees plain reply lines either way.
 *
 * SCPI setters never answer, queries answer in order. So every setting
 * is followed by read-back queries (FREQ?, VOLT?, OUTP?: "verify setters
 * by read-back", devices.md driver rules) and by `*OPC?`, whose "1" is
 * the barrier: once it arrives everything before it has taken effect.
 * A read-back that disagrees is reported as a device fault event.
 */
#define LOG_PREFIX "fgen: "

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "qst_drivers.h"

#define QUEUE_MAX 32
/* Generators round to their own resolution; closer than this is equal. */
#define READBACK_REL_TOL 1e-4

enum query_kind { Q_IDN, Q_OPC, Q_FREQ, Q_VOLT, Q_OUTP };

struct fgen_priv {
	struct qst_fgen_parser parser;
	enum query_kind queue[QUEUE_MAX];
	size_t n_queued;
	bool identified;
	bool ready;       /* identified and the initial setup confirmed */
	double want_hz;   /* last settings sent, for the read-backs */
	double want_vpp;
	bool want_on;
	unsigned long mismatches;
};

static struct fgen_priv *priv_of(struct qst_dev *dev)
{
	return dev ? dev->priv : NULL;
}

static int send_text(struct qst_dev *dev, const char *cmd)
{
	return qst_dev_send(dev, cmd, strlen(cmd));
}

static int send_query(struct qst_dev *dev, const char *cmd,
		      enum query_kind kind)
{
	struct fgen_priv *priv = priv_of(dev);
	if (priv->n_queued == QUEUE_MAX) {
		qst_warn("%.*s not sent: %d queries unanswered",
			 (int)strlen(cmd) - 1, cmd, QUEUE_MAX);
		return QST_ERR_STATE;
	}
	int ret = send_text(dev, cmd);
	if (ret == QST_OK)
		priv->queue[priv->n_queued++] = kind;
	return ret;
}

static int fgen_open(struct qst_dev *dev)
{
	if (!dev || !dev->transport)
		return QST_ERR_ARG;
	struct fgen_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return QST_ERR_NOMEM;
	qst_fgen_parser_init(&priv->parser);
	dev->priv = priv;
	int ret = send_query(dev, QST_FGEN_CMD_IDN, Q_IDN);
	if (ret < 0) {
		free(priv);
		dev->priv = NULL;
	}
	return ret;
}

static void fgen_close(struct qst_dev *dev)
{
	if (!dev)
		return;
	free(dev->priv);
	dev->priv = NULL;
}

static bool fgen_ready(struct qst_dev *dev)
{
	struct fgen_priv *priv = priv_of(dev);
	return priv && priv->ready;
}

static void emit_text(struct qst_dev *dev, enum qst_event_type type,
		      int64_t t_ns, const char *text)
{
	struct qst_event ev = { .t_ns = t_ns, .type = type };
	snprintf(ev.u.text, sizeof(ev.u.text), "%.95s", text); /* QST_EVENT_TEXT_MAX */
	qst_dev_emit(dev, &ev);
}

/*
 * Identified: clear old errors, amplitudes in Vpp, shaker off, and a
 * barrier so ready() means the generator is in that state.
 */
static void take_idn(struct qst_dev *dev, const char *line)
{
	struct fgen_priv *priv = priv_of(dev);
	struct qst_fgen_idn idn;
	if (qst_fgen_parse_idn(line, &idn) < 0) {
		qst_err("*IDN? answered \"%s\": not an IEEE 488.2 identity",
			line);
		return;
	}
	snprintf(dev->info.model, sizeof(dev->info.model), "%.30s %.30s",
		 idn.manufacturer, idn.model);
	snprintf(dev->info.serial, sizeof(dev->info.serial), "%s", idn.serial);
	snprintf(dev->info.firmware, sizeof(dev->info.firmware), "%s",
		 idn.firmware);
	priv->identified = true;
	int ret = send_text(dev, QST_FGEN_CMD_CLS);
	if (ret == QST_OK)
		ret = send_text(dev, QST_FGEN_CMD_UNIT_VPP);
	if (ret == QST_OK)
		ret = send_text(dev, "OUTP OFF\n");
	if (ret == QST_OK)
		send_query(dev, QST_FGEN_CMD_OPC, Q_OPC);
}

static void take_opc(struct qst_dev *dev, const char *line)
{
	struct fgen_priv *priv = priv_of(dev);
	double v;
	if (qst_fgen_parse_number(line, &v) < 0 || v != 1.0) {
		qst_warn("*OPC? answered \"%s\", not 1", line);
		return;
	}
	if (priv->identified && !priv->ready) {
		priv->ready = true;
		qst_info("%s, serial %s, firmware %s", dev->info.model,
			 dev->info.serial, dev->info.firmware);
	}
}

static void mismatch(struct qst_dev *dev, int64_t t_ns, const char *what,
		     double got, double want)
{
	struct fgen_priv *priv = priv_of(dev);
	char text[QST_EVENT_TEXT_MAX];
	snprintf(text, sizeof(text), "fgen: %s reads back %g, set %g", what,
		 got, want);
	priv->mismatches++;
	qst_warn("%s", text + 6);
	emit_text(dev, QST_EV_DEVICE_FAULT, t_ns, text);
}

static void check_number(struct qst_dev *dev, int64_t t_ns, const char *line,
			 const char *what, double want)
{
	double got;
	if (qst_fgen_parse_number(line, &got) < 0) {
		mismatch(dev, t_ns, what, NAN, want);
		return;
	}
	if (fabs(got - want) > READBACK_REL_TOL * fabs(want))
		mismatch(dev, t_ns, what, got, want);
}

static void take_outp(struct qst_dev *dev, int64_t t_ns, const char *line)
{
	struct fgen_priv *priv = priv_of(dev);
	bool on;
	if (qst_fgen_parse_bool(line, &on) < 0)
		mismatch(dev, t_ns, "output", NAN, priv->want_on);
	else if (on != priv->want_on)
		mismatch(dev, t_ns, "output", on, priv->want_on);
}

static void take_line(struct qst_dev *dev, const char *line, int64_t t_ns)
{
	struct fgen_priv *priv = priv_of(dev);
	emit_text(dev, QST_EV_DEVICE_TEXT, t_ns, line);
	if (priv->n_queued == 0) {
		qst_dbg("unasked line \"%s\"", line);
		return;
	}
	enum query_kind kind = priv->queue[0];
	memmove(priv->queue, priv->queue + 1,
		(priv->n_queued - 1) * sizeof(priv->queue[0]));
	priv->n_queued--;
	switch (kind) {
	case Q_IDN: take_idn(dev, line); break;
	case Q_OPC: take_opc(dev, line); break;
	case Q_FREQ: check_number(dev, t_ns, line, "frequency", priv->want_hz); break;
	case Q_VOLT: check_number(dev, t_ns, line, "amplitude", priv->want_vpp); break;
	case Q_OUTP: take_outp(dev, t_ns, line); break;
	}
}

static void fgen_receive(struct qst_dev *dev, const uint8_t *buf, size_t len,
			 int64_t t_ns)
{
	struct fgen_priv *priv = priv_of(dev);
	if (!priv || !buf)
		return;
	size_t off = 0;
	while (off < len) {
		char line[QST_FGEN_LINE_MAX];
		bool got;
		off += qst_fgen_parser_feed(&priv->parser, buf + off, len - off,
					    line, &got);
		if (got)
			take_line(dev, line, t_ns);
	}
}

/* ---------------------------------------------------------- vibration ops */

static int fgen_set_sine(struct qst_dev *dev, double hz, double amplitude_vpp)
{
	struct fgen_priv *priv = priv_of(dev);
	if (!priv || !priv->ready)
		return QST_ERR_STATE;
	char cmd[QST_FGEN_CMD_MAX];
	int n = qst_fgen_enc_apply_sine(cmd, sizeof(cmd), hz, amplitude_vpp);
	if (n < 0) {
		qst_warn("sine %g Hz, %g Vpp refused: outside (0, %g] Hz, "
			 "(0, %g] Vpp", hz, amplitude_vpp, QST_FGEN_FREQ_MAX_HZ,
			 QST_FGEN_AMPL_MAX_VPP);
		return QST_ERR_ARG;
	}
	int ret = send_text(dev, cmd);
	/* APPLy switches the output on (Keysight 33xxx, Rigol DG): a new
	 * sine must not start the shaker by itself. */
	if (ret == QST_OK && !priv->want_on)
		ret = send_text(dev, "OUTP OFF\n");
	if (ret < 0)
		return ret;
	priv->want_hz = hz;
	priv->want_vpp = amplitude_vpp;
	ret = send_query(dev, QST_FGEN_CMD_FREQ_Q, Q_FREQ);
	if (ret == QST_OK)
		ret = send_query(dev, QST_FGEN_CMD_VOLT_Q, Q_VOLT);
	if (ret == QST_OK)
		ret = send_query(dev, QST_FGEN_CMD_OPC, Q_OPC);
	return ret;
}

static int fgen_output(struct qst_dev *dev, bool on)
{
	struct fgen_priv *priv = priv_of(dev);
	if (!priv || !priv->ready)
		return QST_ERR_STATE;
	char cmd[QST_FGEN_CMD_MAX];
	int n = qst_fgen_enc_output(cmd, sizeof(cmd), on);
	int ret = n < 0 ? n : send_text(dev, cmd);
	if (ret < 0)
		return ret;
	priv->want_on = on;
	ret = send_query(dev, QST_FGEN_CMD_OUTP_Q, Q_OUTP);
	if (ret == QST_OK)
		ret = send_query(dev, QST_FGEN_CMD_OPC, Q_OPC);
	return ret;
}

static const struct qst_vibration_ops fgen_vibration_ops = {
	.set_sine = fgen_set_sine,
	.output = fgen_output,
};

const struct qst_driver qst_driver_fgen = {
	.name = "fgen",
	.longname = "SCPI function generator (vibration shaker)",
	.dev_class = QST_DEV_VIBRATION,
	.open = fgen_open,
	.close = fgen_close,
	.ready = fgen_ready,
	.receive = fgen_receive,
	.class_ops = &fgen_vibration_ops,
	/* devices.md §5.1 and its USB-TMC note: bulk transfers through
	 * libusb. (Older RS-232 generators, 8N2, are not wired up.) */
	.link = { .kind = QST_LINK_USB, .usb = QST_USB_TMC },
};
