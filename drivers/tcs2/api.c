/*
 * QST.Lab TCS II driver: the vtable and the I/O glue around protocol.c.
 *
 * The thermode's temperature stream (1 Hz idle, 100 Hz during a stimulus,
 * devices.md §1.4) is left on, not muted with `F`: every readback sample
 * becomes a timestamped event, and replies are told apart from stream
 * lines by their shape.
 */
#define LOG_PREFIX "tcs2: "

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "qst_drivers.h"

struct tcs2_priv {
	struct qst_tcs2_parser parser;
	bool identified;
	bool have_temp;
	bool wave_on;   /* `Ue` enabled: `L` would play the waveform */
	double plate_c; /* mean of the zones in the last readback */
};

static struct tcs2_priv *priv_of(struct qst_dev *dev)
{
	return dev ? dev->priv : NULL;
}

static int send_cmd(struct qst_dev *dev, const char *cmd)
{
	return qst_dev_send(dev, cmd, strlen(cmd));
}

/*
 * Ask for the help text (firmware and probe id, devices.md §1.3), the
 * identity (`?` → `TCS`, later firmware only) and one temperature line,
 * which both gives ramp() its starting temperature and, being CR-prefixed,
 * terminates the `TCS` reply line at once.
 */
static int tcs2_open(struct qst_dev *dev)
{
	if (!dev || !dev->transport)
		return QST_ERR_ARG;
	struct tcs2_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return QST_ERR_NOMEM;
	qst_tcs2_parser_init(&priv->parser);
	dev->priv = priv;
	int ret = send_cmd(dev, QST_TCS2_CMD_HELP);
	if (ret == QST_OK)
		ret = send_cmd(dev, QST_TCS2_CMD_IDENTIFY);
	if (ret == QST_OK)
		ret = send_cmd(dev, QST_TCS2_CMD_TEMPERATURES);
	if (ret < 0) {
		free(priv);
		dev->priv = NULL;
	}
	return ret;
}

static void tcs2_close(struct qst_dev *dev)
{
	if (!dev)
		return;
	free(dev->priv);
	dev->priv = NULL;
}

static bool tcs2_ready(struct qst_dev *dev)
{
	struct tcs2_priv *priv = priv_of(dev);
	return priv && priv->identified && priv->have_temp;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
	while (*src == ' ')
		src++;
	snprintf(dst, cap, "%s", src);
	size_t n = strlen(dst);
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = '\0';
}

/* Identity lines: `?` → "TCS"; `H` → "Firmware: …", "Probe ID: …". */
static void note_identity(struct qst_dev *dev, const char *line)
{
	struct tcs2_priv *priv = priv_of(dev);
	char trimmed[QST_TCS2_LINE_MAX];
	copy_field(trimmed, sizeof(trimmed), line);
	if (strcmp(trimmed, QST_TCS2_IDENTITY) == 0) {
		snprintf(dev->info.model, sizeof(dev->info.model),
			 "QST.Lab TCS II");
		priv->identified = true;
	} else if (strncmp(trimmed, "Firmware:", 9) == 0) {
		copy_field(dev->info.firmware, sizeof(dev->info.firmware),
			   trimmed + 9);
		/* fw 008/012 lack `?` but print this (devices.md §1.3). */
		if (!dev->info.model[0])
			snprintf(dev->info.model, sizeof(dev->info.model),
				 "QST.Lab TCS II");
		priv->identified = true;
	} else if (strncmp(trimmed, "Probe ID:", 9) == 0) {
		copy_field(dev->info.serial, sizeof(dev->info.serial),
			   trimmed + 9);
	}
}

static void emit_frame(struct qst_dev *dev, const struct qst_tcs2_frame *f,
		       int64_t t_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_TEMPERATURE };
	double sum = 0;
	ev.u.temp.neutral_c = f->tenths[0] / 10.0;
	for (int z = 0; z < QST_THERMODE_ZONES; z++) {
		ev.u.temp.zone_c[z] = f->tenths[1 + z] / 10.0;
		sum += ev.u.temp.zone_c[z];
	}
	priv->plate_c = sum / QST_THERMODE_ZONES;
	priv->have_temp = true;
	qst_dev_emit(dev, &ev);
}

static void emit_text(struct qst_dev *dev, const char *text, int64_t t_ns)
{
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_DEVICE_TEXT };
	snprintf(ev.u.text, sizeof(ev.u.text), "%s", text);
	note_identity(dev, text);
	qst_dev_emit(dev, &ev);
}

static void tcs2_receive(struct qst_dev *dev, const uint8_t *buf, size_t len,
			 int64_t t_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	if (!priv || !buf)
		return;
	size_t off = 0;
	unsigned long noise = priv->parser.noise_bytes;
	while (off < len) {
		struct qst_tcs2_item item;
		off += qst_tcs2_parser_feed(&priv->parser, buf + off, len - off,
					    &item);
		if (item.type == QST_TCS2_ITEM_FRAME)
			emit_frame(dev, &item.frame, t_ns);
		else if (item.type == QST_TCS2_ITEM_TEXT)
			emit_text(dev, item.text, t_ns);
	}
	qst_dev_emit_noise(dev, noise, priv->parser.noise_bytes, t_ns);
}

/* ------------------------------------------------------------ thermal ops */

static int encode_celsius(int (*enc)(char *, size_t, int), char *buf,
			  double celsius, const char *what)
{
	int tenths;
	int ret = qst_tcs2_to_tenths(celsius, &tenths);
	if (ret == QST_OK)
		ret = enc(buf, QST_TCS2_CMD_MAX, tenths);
	if (ret < 0)
		qst_warn("%s %.2f °C refused: outside the device's range", what,
			 celsius);
	return ret < 0 ? QST_ERR_ARG : QST_OK;
}

static int tcs2_set_neutral(struct qst_dev *dev, double celsius)
{
	if (!priv_of(dev))
		return QST_ERR_STATE;
	char cmd[QST_TCS2_CMD_MAX];
	int ret = encode_celsius(qst_tcs2_enc_neutral, cmd, celsius, "neutral");
	return ret < 0 ? ret : send_cmd(dev, cmd);
}

static int tcs2_set_max(struct qst_dev *dev, double celsius)
{
	if (!priv_of(dev))
		return QST_ERR_STATE;
	char cmd[QST_TCS2_CMD_MAX];
	int ret = encode_celsius(qst_tcs2_enc_max, cmd, celsius, "maximum");
	return ret < 0 ? ret : send_cmd(dev, cmd);
}

struct ramp_cmds {
	char target[QST_TCS2_CMD_MAX];
	char rise[QST_TCS2_CMD_MAX];
	char back[QST_TCS2_CMD_MAX];
	char duration[QST_TCS2_CMD_MAX];
};

static int encode_speed(int (*enc)(char *, size_t, int, int), char *buf,
			double c_s, const char *what)
{
	int tenths;
	int ret = qst_tcs2_to_tenths(c_s, &tenths);
	if (ret == QST_OK)
		ret = enc(buf, QST_TCS2_CMD_MAX, 0, tenths);
	if (ret < 0)
		qst_warn("%s %.3f °C/s refused: outside 0.1..999.9 °C/s", what,
			 c_s);
	return ret < 0 ? QST_ERR_ARG : tenths;
}

/*
 * `D` counts from the start of the rise (rise + plateau); the return comes
 * after it (devices.md §1.3). So D = rise time from the current readback at
 * the rate the device will use (rounded to 1/10 °C/s) plus the hold.
 */
static int encode_duration(char *buf, double from_c, int target_tenths,
			   int rise_tenths, double hold_s)
{
	double rise_s = fabs(target_tenths / 10.0 - from_c) /
			(rise_tenths / 10.0);
	double ms = ceil((rise_s + hold_s) * 1000.0 - 1e-6);
	if (ms < QST_TCS2_DURATION_MIN)
		ms = QST_TCS2_DURATION_MIN;
	if (ms > QST_TCS2_DURATION_MAX) {
		qst_warn("stimulus of %.0f ms refused: the device counts at "
			 "most %d ms (rise + hold)", ms, QST_TCS2_DURATION_MAX);
		return QST_ERR_ARG;
	}
	return qst_tcs2_enc_duration(buf, QST_TCS2_CMD_MAX, 0, (int)ms);
}

static int encode_ramp(struct ramp_cmds *c, double from_c, double target_c,
		       double rate_c_s, double hold_s, double return_c_s)
{
	if (!isfinite(hold_s) || hold_s < 0) {
		qst_warn("hold of %g s refused: must be >= 0", hold_s);
		return QST_ERR_ARG;
	}
	int target_tenths;
	int ret = qst_tcs2_to_tenths(target_c, &target_tenths);
	if (ret == QST_OK)
		ret = qst_tcs2_enc_target(c->target, sizeof(c->target), 0,
					  target_tenths);
	if (ret < 0) {
		qst_warn("target %.2f °C refused: outside 0.0..60.0 °C",
			 target_c);
		return QST_ERR_ARG;
	}
	int rise_tenths = encode_speed(qst_tcs2_enc_rise, c->rise, rate_c_s,
				       "rise rate");
	if (rise_tenths < 0)
		return rise_tenths;
	ret = encode_speed(qst_tcs2_enc_return, c->back, return_c_s,
			   "return rate");
	if (ret < 0)
		return ret;
	ret = encode_duration(c->duration, from_c, target_tenths, rise_tenths,
			      hold_s);
	return ret < 0 ? ret : QST_OK;
}

/*
 * Everything is encoded and checked before the first byte goes out, so a
 * refused ramp leaves the device's parameters untouched. A new `L` while a
 * stimulus runs re-launches it (devices.md §1.3, TSP trains), which is how
 * a running ramp is replaced.
 */
static int tcs2_ramp(struct qst_dev *dev, double target_c, double rate_c_s,
		     double hold_s, double return_c_s)
{
	struct tcs2_priv *priv = priv_of(dev);
	if (!priv || !priv->have_temp) {
		qst_warn("ramp refused: no temperature readback yet");
		return QST_ERR_STATE;
	}
	struct ramp_cmds c;
	int ret = encode_ramp(&c, priv->plate_c, target_c, rate_c_s, hold_s,
			      return_c_s);
	if (ret < 0)
		return ret;
	/* After a waveform, `L` would play it again: switch it off first. */
	if (priv->wave_on) {
		ret = send_cmd(dev, QST_TCS2_WAVE_DISABLE);
		if (ret < 0)
			return ret;
		priv->wave_on = false;
	}
	const char *seq[] = { c.target, c.rise, c.back, c.duration,
			      QST_TCS2_CMD_START };
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]) && ret == QST_OK; i++)
		ret = send_cmd(dev, seq[i]);
	qst_dbg("ramp %.1f -> %.2f °C at %.2f °C/s, hold %.2f s, back at %.2f "
		"°C/s: %s %s %s %s L", priv->plate_c, target_c, rate_c_s, hold_s,
		return_c_s, c.target, c.rise, c.back, c.duration);
	return ret;
}

/*
 * `Uw` header, then each 6-byte segment as its own write (as T-UH sends
 * them, devices.md §1.3), `R` for the way back, `Ue11111`, `L`. All of it
 * encoded before the first byte goes out, as for a ramp.
 */
static int tcs2_waveform(struct qst_dev *dev, const struct qst_wave_segment *seg,
			 size_t n, double return_c_s)
{
	struct tcs2_priv *priv = priv_of(dev);
	if (!priv || !priv->have_temp) {
		qst_warn("waveform refused: no temperature readback yet");
		return QST_ERR_STATE;
	}
	if (!seg || n == 0 || n > QST_WAVE_MAX_SEGMENTS)
		return QST_ERR_ARG;
	struct qst_tcs2_wave_seg plan[QST_TCS2_WAVE_SEG_MAX]; /* 8 KB */
	int k = qst_tcs2_wave_plan(priv->plate_c, seg, n, plan,
				   QST_TCS2_WAVE_SEG_MAX);
	char head[QST_TCS2_CMD_MAX], back[QST_TCS2_CMD_MAX], on[QST_TCS2_CMD_MAX];
	int ret = k < 0 ? k : qst_tcs2_enc_wave_header(head, sizeof(head), 0x1f, k);
	if (ret >= 0)
		ret = encode_speed(qst_tcs2_enc_return, back, return_c_s,
				   "return rate");
	if (ret >= 0)
		ret = qst_tcs2_enc_wave_enable(on, sizeof(on), 0x1f);
	if (ret < 0) {
		qst_warn("waveform of %zu segments refused: outside the device's "
			 "ranges (0..60 °C, durations > 0, at most %d pieces)", n,
			 QST_TCS2_WAVE_SEG_MAX);
		return QST_ERR_ARG;
	}
	ret = send_cmd(dev, head);
	for (int i = 0; i < k && ret == QST_OK; i++) {
		char piece[QST_TCS2_CMD_MAX];
		qst_tcs2_enc_wave_seg(piece, sizeof(piece), &plan[i]);
		ret = send_cmd(dev, piece);
	}
	if (ret == QST_OK)
		ret = send_cmd(dev, back);
	if (ret == QST_OK)
		ret = send_cmd(dev, on);
	if (ret == QST_OK) {
		priv->wave_on = true;
		ret = send_cmd(dev, QST_TCS2_CMD_START);
	}
	qst_dbg("waveform of %zu segments (%d on the wire) from %.1f °C: %s", n,
		k, priv->plate_c, qst_strerror(ret));
	return ret;
}

static int tcs2_abort(struct qst_dev *dev)
{
	if (!priv_of(dev))
		return QST_ERR_STATE;
	return send_cmd(dev, QST_TCS2_CMD_ABORT);
}

static const struct qst_thermal_ops tcs2_thermal_ops = {
	.set_neutral = tcs2_set_neutral,
	.set_max = tcs2_set_max,
	.ramp = tcs2_ramp,
	.abort = tcs2_abort,
	.resolution = 0.1, /* 1/10 °C and 1/10 °C/s (devices.md §1.3) */
	.waveform = tcs2_waveform,
};

const struct qst_driver qst_driver_tcs2 = {
	.name = "tcs2",
	.longname = "QST.Lab TCS II thermal stimulator",
	.dev_class = QST_DEV_THERMAL,
	.open = tcs2_open,
	.close = tcs2_close,
	.ready = tcs2_ready,
	.receive = tcs2_receive,
	.class_ops = &tcs2_thermal_ops,
	/* devices.md §1.2: 115200 8N1, no flow control (high). */
	.link = { .kind = QST_LINK_SERIAL, .serial = { 115200, 8, 'N', 1 } },
	/* devices.md §1.2 / G1: a generic CH340 bridge (low confidence). */
	.usb_ids = (const char *const[]){ "1a86:7523", NULL },
};
