/*
 * QST.Lab TCS II driver: the vtable and the I/O glue around protocol.c.
 *
 * The thermode's temperature stream (1 Hz idle, 100 Hz during a stimulus,
 * devices.md §1.4) is left on, not muted with `F`: every readback sample
 * becomes a timestamped event, and replies are told apart from stream
 * lines by their shape.
 *
 * No setter is ACKed (devices.md §1.3), so what was set is read back with
 * `P`; the error state `Q` is asked every QST_TCS2_CHECK_INTERVAL_NS from
 * poll(), and the probe buttons `K` only when the station asks for them
 * (qst_tcs2_set_button_poll): the device pushes neither.
 */
#define LOG_PREFIX "tcs2: "

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "qst_drivers.h"
#include "tcs2.h"

extern const struct qst_driver qst_driver_tcs2;

/* A `P` unanswered this long is taken as lost (latency is gap G4). */
#define PARAMS_TIMEOUT_NS (2 * QST_NS_PER_S)
/* poll() looks in at least this often, so button polling started
 * between two checks begins within it. */
#define POLL_MAX_SLEEP_NS QST_NS_PER_S

enum { PAR_C, PAR_V, PAR_R, PAR_D, PAR_N };

/* What the driver has set, -1 where it has not (so nothing to verify). */
struct tcs2_expect {
	int neutral;   /* 1/10 °C */
	int max;       /* 1/10 °C; `P` does not show it, but C is clamped to it */
	int zone_mask;
	int par[QST_TCS2_ZONES][PAR_N];
};

struct tcs2_priv {
	struct qst_tcs2_parser parser;
	bool identified;
	bool have_temp;
	bool wave_on;   /* `Ue` enabled: `L` would play the waveform */
	double plate_c; /* mean of the zones in the last readback */
	int64_t now_ns; /* latest time seen by receive() or poll() */
	/*
	 * `P` read-back (devices.md §1.3: no setter is ACKed, verify with
	 * `P`). One `P` at a time, compared with what had been set when it
	 * was sent: the device answers in order, so that is what it should
	 * show. A mismatch is asked again before it becomes a fault, so one
	 * line garbled on the wire does not end a session.
	 */
	struct tcs2_expect want;
	struct tcs2_expect asked;
	bool p_out;        /* a `P` is unanswered */
	int64_t p_asked_ns;
	bool p_dirty;      /* something was set since the last `P` */
	int reply_zone;    /* next zone line of the reply being read, 0 = none */
	bool reply_bad;
	bool confirming;   /* the previous reply disagreed: this one decides */
	/* `Q` error state: a non-OK answer is asked again before it is a fault. */
	int q_pending[QST_TCS2_ERROR_FIELDS];
	int q_reported[QST_TCS2_ERROR_FIELDS];
	int64_t next_check_ns;
	/* `K` buttons */
	unsigned buttons;
	int64_t keys_every_ns; /* 0 = not polled */
	int64_t next_keys_ns;
};

static struct tcs2_priv *priv_of(struct qst_dev *dev)
{
	return dev ? dev->priv : NULL;
}

static int send_cmd(struct qst_dev *dev, const char *cmd)
{
	return qst_dev_send(dev, cmd, strlen(cmd));
}

/* Send `P` unless one is out; then the reply's end asks again. */
static int ask_params(struct qst_dev *dev)
{
	struct tcs2_priv *priv = priv_of(dev);
	if (priv->p_out) {
		priv->p_dirty = true;
		return QST_OK;
	}
	int ret = send_cmd(dev, QST_TCS2_CMD_PARAMS);
	if (ret < 0)
		return ret;
	priv->asked = priv->want;
	priv->p_out = true;
	priv->p_asked_ns = priv->now_ns;
	priv->p_dirty = false;
	return QST_OK;
}

static void emit_fault(struct qst_dev *dev, int64_t t_ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emit_fault(struct qst_dev *dev, int64_t t_ns, const char *fmt, ...)
{
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_DEVICE_FAULT };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev.u.text, sizeof(ev.u.text), fmt, ap);
	va_end(ap);
	qst_warn("%s", ev.u.text);
	qst_dev_emit(dev, &ev);
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
	memset(&priv->want, 0xff, sizeof(priv->want)); /* all -1 */
	dev->priv = priv;
	int ret = send_cmd(dev, QST_TCS2_CMD_HELP);
	if (ret == QST_OK)
		ret = send_cmd(dev, QST_TCS2_CMD_IDENTIFY);
	if (ret == QST_OK)
		ret = send_cmd(dev, QST_TCS2_CMD_TEMPERATURES);
	/* Nothing set yet to compare, but it shows `P` answers (gap G3). */
	if (ret == QST_OK)
		ret = ask_params(dev);
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

static void zone_mask_text(int mask, char out[QST_TCS2_ZONES + 1])
{
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		out[z] = (mask >> z) & 1 ? '1' : '0';
	out[QST_TCS2_ZONES] = '\0';
}

/*
 * The first disagreement in a reply: asked again once (the reply's end
 * sends the new `P`); if the next reply disagrees too, a device fault.
 */
static void mismatch(struct qst_dev *dev, int64_t t_ns, const char *what)
{
	struct tcs2_priv *priv = priv_of(dev);
	if (priv->reply_bad)
		return;
	priv->reply_bad = true;
	if (!priv->confirming) {
		qst_warn("read-back: %s; asking `P` again", what);
		priv->confirming = true;
		priv->p_dirty = true;
		return;
	}
	priv->confirming = false;
	emit_fault(dev, t_ns, "TCS II read-back: %s", what);
}

static void check_header(struct qst_dev *dev, const struct qst_tcs2_params_line *l,
			 int64_t t_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	const struct tcs2_expect *w = &priv->asked;
	char what[80];
	if (w->neutral >= 0 && l->neutral != w->neutral) {
		snprintf(what, sizeof(what), "neutral is %.1f °C, set %.1f °C",
			 l->neutral / 10.0, w->neutral / 10.0);
		mismatch(dev, t_ns, what);
	}
	if (w->zone_mask >= 0 && l->zone_mask >= 0 && l->zone_mask != w->zone_mask) {
		char is[8], set[8];
		zone_mask_text(l->zone_mask, is);
		zone_mask_text(w->zone_mask, set);
		snprintf(what, sizeof(what), "zones enabled S%s, set S%s", is, set);
		mismatch(dev, t_ns, what);
	}
}

static void check_zone(struct qst_dev *dev, int z,
		       const struct qst_tcs2_params_line *l, int64_t t_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	const int *w = priv->asked.par[z];
	const int got[PAR_N] = { l->target, l->rise, l->back, l->duration };
	static const char *const name[PAR_N] = { "target", "rise rate",
						 "return rate", "duration" };
	static const char *const unit[PAR_N] = { "°C", "°C/s", "°C/s", "ms" };
	for (int i = 0; i < PAR_N; i++) {
		if (w[i] < 0 || got[i] == w[i])
			continue;
		/* `C` is clamped by `Om` (§1.3): a clamped target is no fault. */
		if (i == PAR_C && priv->asked.max >= 0 && w[i] > priv->asked.max)
			continue;
		char what[80];
		if (i == PAR_D)
			snprintf(what, sizeof(what), "zone %d %s is %d %s, set %d %s",
				 z + 1, name[i], got[i], unit[i], w[i], unit[i]);
		else
			snprintf(what, sizeof(what),
				 "zone %d %s is %.1f %s, set %.1f %s", z + 1,
				 name[i], got[i] / 10.0, unit[i], w[i] / 10.0,
				 unit[i]);
		mismatch(dev, t_ns, what);
	}
}

/* Lines of a `P` reply: the header, then zone 1..5 in order. */
static void on_params(struct qst_dev *dev, const struct qst_tcs2_params_line *l,
		      int64_t t_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	if (l->kind == QST_TCS2_PARAM_HEADER) {
		if (!priv->p_out) {
			qst_dbg("`P` header nobody asked for (or too late): ignored");
			priv->reply_zone = 0;
			return;
		}
		priv->reply_bad = false;
		priv->reply_zone = 1;
		check_header(dev, l, t_ns);
		return;
	}
	if (priv->reply_zone < 1)
		return;
	check_zone(dev, priv->reply_zone - 1, l, t_ns);
	if (++priv->reply_zone <= QST_TCS2_ZONES)
		return;
	priv->reply_zone = 0;
	priv->p_out = false;
	if (!priv->reply_bad)
		priv->confirming = false;
	if (priv->p_dirty)
		ask_params(dev);
}

/*
 * `Q`: a non-OK state is asked once more at once and reported when the
 * same state comes back, once per new state (so a garbled line is no
 * fault, and a lasting error is one fault, not one per check).
 */
static void on_errors(struct qst_dev *dev, const int *codes, int64_t t_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	size_t sz = sizeof(int) * QST_TCS2_ERROR_FIELDS;
	bool ok = true;
	for (int i = 0; i < QST_TCS2_ERROR_FIELDS; i++)
		ok = ok && codes[i] == 0;
	if (ok || memcmp(codes, priv->q_reported, sz) == 0) {
		if (ok && memcmp(codes, priv->q_reported, sz) != 0)
			qst_info("error state cleared");
		memcpy(priv->q_reported, codes, sz);
		memset(priv->q_pending, 0, sz);
		return;
	}
	if (memcmp(codes, priv->q_pending, sz) != 0) {
		memcpy(priv->q_pending, codes, sz);
		send_cmd(dev, QST_TCS2_CMD_ERRORS);
		return;
	}
	char where[64] = "";
	size_t n = 0;
	for (int i = 0; i < QST_TCS2_ERROR_FIELDS && n < sizeof(where); i++) {
		if (codes[i] == 0)
			continue;
		int k = i == 0 ? snprintf(where + n, sizeof(where) - n,
					  "%sneutral error %d", n ? ", " : "",
					  codes[i]) :
				 snprintf(where + n, sizeof(where) - n,
					  "%szone %d error %d", n ? ", " : "", i,
					  codes[i]);
		n += k > 0 ? (size_t)k : 0;
	}
	emit_fault(dev, t_ns, "TCS II error state Q=%d%d%d%d%d%d: %s", codes[0],
		   codes[1], codes[2], codes[3], codes[4], codes[5], where);
	memcpy(priv->q_reported, codes, sz);
	memset(priv->q_pending, 0, sz);
}

/* `K` (or the tail of `Og`): one event per button that changed. */
static void on_buttons(struct qst_dev *dev, unsigned state, int64_t t_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	for (int b = 0; b < QST_TCS2_BUTTONS; b++) {
		unsigned bit = 1u << b;
		if ((state & bit) == (priv->buttons & bit))
			continue;
		struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_BUTTON };
		ev.u.button.key = b + 1;
		ev.u.button.pressed = (state & bit) != 0;
		ev.u.button.device_rt_ms = -1; /* the TCS stamps nothing */
		qst_dev_emit(dev, &ev);
	}
	priv->buttons = state;
}

static void emit_text(struct qst_dev *dev, const char *text, int64_t t_ns)
{
	struct qst_event ev = { .t_ns = t_ns, .type = QST_EV_DEVICE_TEXT };
	snprintf(ev.u.text, sizeof(ev.u.text), "%s", text);
	note_identity(dev, text);
	qst_dev_emit(dev, &ev);
	/* Replies are told apart by shape (devices.md §1.3, driver rules). */
	struct qst_tcs2_params_line pl;
	int codes[QST_TCS2_ERROR_FIELDS];
	unsigned keys;
	if (qst_tcs2_parse_params(text, &pl) == QST_OK)
		on_params(dev, &pl, t_ns);
	else if (qst_tcs2_parse_errors(text, codes) == QST_OK)
		on_errors(dev, codes, t_ns);
	else if (qst_tcs2_parse_buttons(text, &keys) == QST_OK)
		on_buttons(dev, keys, t_ns);
}

static void tcs2_receive(struct qst_dev *dev, const uint8_t *buf, size_t len,
			 int64_t t_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	if (!priv || !buf)
		return;
	if (t_ns > priv->now_ns)
		priv->now_ns = t_ns;
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
	if (ret == QST_OK)
		ret = send_cmd(dev, cmd);
	if (ret < 0)
		return ret;
	/* encode_celsius checked the value: the same rounding cannot fail */
	qst_tcs2_to_tenths(celsius, &priv_of(dev)->want.neutral);
	return ask_params(dev);
}

static int tcs2_set_max(struct qst_dev *dev, double celsius)
{
	if (!priv_of(dev))
		return QST_ERR_STATE;
	char cmd[QST_TCS2_CMD_MAX];
	int ret = encode_celsius(qst_tcs2_enc_max, cmd, celsius, "maximum");
	if (ret == QST_OK)
		ret = send_cmd(dev, cmd);
	if (ret < 0)
		return ret;
	/*
	 * `P` shows no maximum (§1.3), so `Om` itself cannot be read back;
	 * it is kept to excuse targets the device clamped, and `P` is asked
	 * so what it does show is checked once more after the change.
	 */
	qst_tcs2_to_tenths(celsius, &priv_of(dev)->want.max);
	return ask_params(dev);
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
	/*
	 * No `P` on the ramp's path: the values are checked at poll()'s next
	 * look (QST_TCS2_CHECK_INTERVAL_NS), not between the setters and `L`.
	 */
	if (ret == QST_OK) {
		for (int z = 0; z < QST_TCS2_ZONES; z++) {
			int *w = priv->want.par[z];
			w[PAR_C] = atoi(c.target + 2);
			w[PAR_V] = atoi(c.rise + 2);
			w[PAR_R] = atoi(c.back + 2);
			w[PAR_D] = atoi(c.duration + 2);
		}
		priv->p_dirty = true;
	}
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
	if (ret == QST_OK) {
		for (int z = 0; z < QST_TCS2_ZONES; z++)
			priv->want.par[z][PAR_R] = atoi(back + 2);
		priv->p_dirty = true;
		ret = send_cmd(dev, on);
	}
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

/* ------------------------------------------------------- polled checks */

/*
 * Every QST_TCS2_CHECK_INTERVAL_NS: `Q`, and `P` if something was set
 * since the last one (the ramp's values). Buttons at their own rate.
 */
static int64_t tcs2_poll(struct qst_dev *dev, int64_t now_ns)
{
	struct tcs2_priv *priv = priv_of(dev);
	if (!priv)
		return INT64_MAX;
	if (now_ns > priv->now_ns)
		priv->now_ns = now_ns;
	if (priv->p_out && now_ns - priv->p_asked_ns > PARAMS_TIMEOUT_NS) {
		qst_dbg("`P` unanswered for %.1f s: taken as lost",
			qst_ns_to_s(now_ns - priv->p_asked_ns));
		priv->p_out = false;
		priv->reply_zone = 0;
	}
	if (now_ns >= priv->next_check_ns) {
		send_cmd(dev, QST_TCS2_CMD_ERRORS);
		if (priv->p_dirty)
			ask_params(dev);
		priv->next_check_ns = now_ns + QST_TCS2_CHECK_INTERVAL_NS;
	}
	int64_t next = priv->next_check_ns;
	if (priv->keys_every_ns > 0) {
		if (now_ns >= priv->next_keys_ns) {
			send_cmd(dev, QST_TCS2_CMD_BUTTONS);
			priv->next_keys_ns = now_ns + priv->keys_every_ns;
		}
		next = priv->next_keys_ns < next ? priv->next_keys_ns : next;
	}
	return next < now_ns + POLL_MAX_SLEEP_NS ? next : now_ns + POLL_MAX_SLEEP_NS;
}

/* ------------------------------------------------- tcs2-specific calls */

static struct tcs2_priv *tcs2_priv_checked(struct qst_dev *dev)
{
	if (!dev || dev->driver != &qst_driver_tcs2)
		return NULL;
	return priv_of(dev);
}

int qst_tcs2_set_zones(struct qst_dev *dev, unsigned zone_mask)
{
	struct tcs2_priv *priv = tcs2_priv_checked(dev);
	if (!priv)
		return QST_ERR_STATE;
	char cmd[QST_TCS2_CMD_MAX];
	int ret = qst_tcs2_enc_zones(cmd, sizeof(cmd), zone_mask);
	if (ret >= 0)
		ret = send_cmd(dev, cmd);
	if (ret < 0)
		return ret;
	priv->want.zone_mask = (int)zone_mask;
	return ask_params(dev);
}

int qst_tcs2_set_zone_target(struct qst_dev *dev, int zone, double celsius)
{
	struct tcs2_priv *priv = tcs2_priv_checked(dev);
	if (!priv)
		return QST_ERR_STATE;
	char cmd[QST_TCS2_CMD_MAX];
	int tenths;
	int ret = qst_tcs2_to_tenths(celsius, &tenths);
	if (ret == QST_OK)
		ret = qst_tcs2_enc_target(cmd, sizeof(cmd), zone, tenths);
	if (ret < 0) {
		qst_warn("zone %d target %.2f °C refused: zone 0..5, 0.0..60.0 °C",
			 zone, celsius);
		return QST_ERR_ARG;
	}
	ret = send_cmd(dev, cmd);
	if (ret < 0)
		return ret;
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		if (zone == 0 || zone == z + 1)
			priv->want.par[z][PAR_C] = tenths;
	return ask_params(dev);
}

int qst_tcs2_set_quiet(struct qst_dev *dev, bool quiet)
{
	if (!tcs2_priv_checked(dev))
		return QST_ERR_STATE;
	if (quiet)
		return send_cmd(dev, QST_TCS2_CMD_MUTE);
	int ret = send_cmd(dev, QST_TCS2_CMD_STREAM_IDLE);
	return ret < 0 ? ret : send_cmd(dev, QST_TCS2_CMD_STREAM_STIM);
}

int qst_tcs2_set_button_poll(struct qst_dev *dev, int interval_ms)
{
	struct tcs2_priv *priv = tcs2_priv_checked(dev);
	if (!priv)
		return QST_ERR_STATE;
	if (interval_ms < 0 || interval_ms > 60000)
		return QST_ERR_ARG;
	priv->keys_every_ns = (int64_t)interval_ms * QST_NS_PER_MS;
	priv->next_keys_ns = priv->now_ns;
	return QST_OK;
}

int qst_tcs2_verify(struct qst_dev *dev)
{
	return tcs2_priv_checked(dev) ? ask_params(dev) : QST_ERR_STATE;
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
	.poll = tcs2_poll,
	.class_ops = &tcs2_thermal_ops,
	/* devices.md §1.2: 115200 8N1, no flow control (high). */
	.link = { .kind = QST_LINK_SERIAL, .serial = { 115200, 8, 'N', 1 } },
	/* devices.md §1.2 / G1: a generic CH340 bridge (low confidence). */
	.usb_ids = (const char *const[]){ "1a86:7523", NULL },
};
