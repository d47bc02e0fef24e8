/*
 * QST.Lab TCS II wire protocol: encoders for the fixed-width ASCII commands
 * and the stream parser (devices.md §1.3, §1.4). No I/O here.
 */
#define LOG_PREFIX "tcs2-proto: "

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"

static bool in_range(int v, int lo, int hi)
{
	return v >= lo && v <= hi;
}

static bool zone_ok(int zone)
{
	return in_range(zone, 0, QST_TCS2_ZONES);
}

/* snprintf into buf, QST_ERR_ARG if it did not fit. */
static int finish(int n, size_t cap)
{
	if (n < 0 || (size_t)n >= cap)
		return QST_ERR_ARG;
	return n;
}

int qst_tcs2_to_tenths(double value, int *tenths)
{
	if (!isfinite(value) || fabs(value) > 1e6)
		return QST_ERR_ARG;
	*tenths = (int)lround(value * 10.0);
	return QST_OK;
}

int qst_tcs2_enc_neutral(char *buf, size_t cap, int tenths_c)
{
	if (!buf || !in_range(tenths_c, QST_TCS2_NEUTRAL_MIN, QST_TCS2_NEUTRAL_MAX))
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "N%03d", tenths_c), cap);
}

/*
 * `Om` has no printed range; it clamps `C`, so it takes C's printed range
 * 100..600 (devices.md §1.3; drivers send Om450..Om550).
 */
int qst_tcs2_enc_max(char *buf, size_t cap, int tenths_c)
{
	if (!buf || !in_range(tenths_c, QST_TCS2_OM_MIN, QST_TCS2_TARGET_MAX))
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "Om%03d", tenths_c), cap);
}

int qst_tcs2_enc_zones(char *buf, size_t cap, unsigned zone_mask)
{
	if (!buf || zone_mask > 0x1f || cap < 7)
		return QST_ERR_ARG;
	buf[0] = 'S';
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		buf[1 + z] = (zone_mask >> z) & 1 ? '1' : '0';
	buf[6] = '\0';
	return 6;
}

int qst_tcs2_enc_target(char *buf, size_t cap, int zone, int tenths_c)
{
	if (!buf || !zone_ok(zone) ||
	    !in_range(tenths_c, QST_TCS2_TARGET_MIN, QST_TCS2_TARGET_MAX))
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "C%d%03d", zone, tenths_c), cap);
}

int qst_tcs2_enc_rise(char *buf, size_t cap, int zone, int tenths_c_s)
{
	if (!buf || !zone_ok(zone) ||
	    !in_range(tenths_c_s, QST_TCS2_SPEED_MIN, QST_TCS2_SPEED_MAX))
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "V%d%04d", zone, tenths_c_s), cap);
}

int qst_tcs2_enc_return(char *buf, size_t cap, int zone, int tenths_c_s)
{
	if (!buf || !zone_ok(zone) ||
	    !in_range(tenths_c_s, QST_TCS2_SPEED_MIN, QST_TCS2_SPEED_MAX))
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "R%d%04d", zone, tenths_c_s), cap);
}

int qst_tcs2_enc_duration(char *buf, size_t cap, int zone, int ms)
{
	if (!buf || !zone_ok(zone) ||
	    !in_range(ms, QST_TCS2_DURATION_MIN, QST_TCS2_DURATION_MAX))
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "D%d%05d", zone, ms), cap);
}

/*
 * devices.md §1.4: CR, neutral as 3 digits, then each zone as its sign
 * ('+' or '-') and 3 digits. The neutral field carries no sign.
 */
int qst_tcs2_format_frame(const struct qst_tcs2_frame *f, char *buf,
			  size_t cap)
{
	if (!f || !buf || !in_range(f->tenths[0], 0, 999))
		return QST_ERR_ARG;
	for (int i = 1; i <= QST_TCS2_ZONES; i++)
		if (!in_range(f->tenths[i], -999, 999))
			return QST_ERR_ARG;
	int n = snprintf(buf, cap, "\r%03d", f->tenths[0]);
	for (int i = 1; i <= QST_TCS2_ZONES && n > 0 && (size_t)n < cap; i++) {
		int v = f->tenths[i];
		n += snprintf(buf + n, cap - (size_t)n, "%c%03d",
			      v < 0 ? '-' : '+', v < 0 ? -v : v);
	}
	return finish(n, cap);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_sign(char c)
{
	return c == '+' || c == '-';
}

/*
 * Six signed 3-digit fields, neutral first. The neutral may carry a
 * leading sign: one secondary source shows idle lines as "+300+300..."
 * (devices.md §1.4, T-EV), so both variants are accepted.
 */
int qst_tcs2_parse_frame(const char *line, size_t len,
			 struct qst_tcs2_frame *f)
{
	size_t pos = 0;
	for (int i = 0; i <= QST_TCS2_ZONES; i++) {
		int sign = 1;
		if (pos < len && is_sign(line[pos])) {
			sign = line[pos] == '-' ? -1 : 1;
			pos++;
		} else if (i > 0) {
			return QST_ERR_DATA;
		}
		if (pos + 3 > len || !is_digit(line[pos]) ||
		    !is_digit(line[pos + 1]) || !is_digit(line[pos + 2]))
			return QST_ERR_DATA;
		int v = (line[pos] - '0') * 100 + (line[pos + 1] - '0') * 10 +
			(line[pos + 2] - '0');
		f->tenths[i] = sign * v;
		pos += 3;
	}
	return pos == len ? QST_OK : QST_ERR_DATA;
}

void qst_tcs2_parser_init(struct qst_tcs2_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static bool is_printable(uint8_t b)
{
	return (b >= 0x20 && b < 0x7f) || b == '\t';
}

static void start_line(struct qst_tcs2_parser *p)
{
	p->len = 0;
	p->skipping = 0;
	p->corrupt = 0;
	p->after_frame = 0;
}

/* CR or LF ends a line; a text reply is only known complete here. */
static void end_line(struct qst_tcs2_parser *p, struct qst_tcs2_item *item)
{
	if (p->skipping || p->len == 0) {
		start_line(p);
		return;
	}
	if (p->corrupt) {
		p->dropped++;
		p->noise_bytes += p->len;
		qst_dbg("dropped a corrupt line of %zu bytes", p->len);
		start_line(p);
		return;
	}
	item->type = QST_TCS2_ITEM_TEXT;
	memcpy(item->text, p->line, p->len);
	item->text[p->len] = '\0';
	p->lines++;
	start_line(p);
}

/* Frames have a fixed shape, so they complete without waiting for the next CR. */
static void try_frame(struct qst_tcs2_parser *p, struct qst_tcs2_item *item)
{
	if (p->len != 23 && p->len != 24)
		return;
	if (qst_tcs2_parse_frame(p->line, p->len, &item->frame) < 0)
		return;
	item->type = QST_TCS2_ITEM_FRAME;
	p->frames++;
	p->skipping = 1;
	p->after_frame = 1;
}

static void add_byte(struct qst_tcs2_parser *p, uint8_t b,
		     struct qst_tcs2_item *item)
{
	/* A frame ends at its last digit; nothing belongs after it. */
	if (p->skipping) {
		/* ...except the button state `Og` sends after whitespace
		 * (devices.md §1.3, T-WL2): it starts a line of its own. */
		if (p->after_frame && (b == ' ' || b == '\t')) {
			start_line(p);
			return;
		}
		p->after_frame = 0;
		p->noise_bytes++;
		return;
	}
	if (p->len + 1 >= sizeof(p->line)) {
		p->corrupt = 1;
		p->noise_bytes++;
		return;
	}
	if (!is_printable(b))
		p->corrupt = 1;
	p->line[p->len++] = (char)b;
	if (!p->corrupt)
		try_frame(p, item);
}

size_t qst_tcs2_parser_feed(struct qst_tcs2_parser *p, const uint8_t *buf,
			    size_t len, struct qst_tcs2_item *item)
{
	item->type = QST_TCS2_ITEM_NONE;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\r' || buf[i] == '\n')
			end_line(p, item);
		else
			add_byte(p, buf[i], item);
		if (item->type != QST_TCS2_ITEM_NONE)
			return i + 1;
	}
	return len;
}

/* ------------------------------------------------------------- waveform */

static int enc_mask(char *buf, size_t cap, const char *cmd, unsigned zone_mask)
{
	size_t len = strlen(cmd);
	if (!buf || zone_mask > 0x1f || zone_mask == 0 ||
	    cap < len + QST_TCS2_ZONES + 1)
		return QST_ERR_ARG;
	memcpy(buf, cmd, len);
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		buf[len + (size_t)z] = (zone_mask >> z) & 1 ? '1' : '0';
	buf[len + QST_TCS2_ZONES] = '\0';
	return (int)len + QST_TCS2_ZONES;
}

int qst_tcs2_enc_wave_header(char *buf, size_t cap, unsigned zone_mask,
			     int n_segments)
{
	if (!in_range(n_segments, 0, QST_TCS2_WAVE_SEG_MAX))
		return QST_ERR_ARG;
	int n = enc_mask(buf, cap, "Uw", zone_mask);
	if (n < 0)
		return n;
	return finish(n + snprintf(buf + n, cap - (size_t)n, "%03d", n_segments),
		      cap);
}

int qst_tcs2_enc_wave_seg(char *buf, size_t cap,
			  const struct qst_tcs2_wave_seg *seg)
{
	if (!buf || !seg || !in_range(seg->ticks, 1, QST_TCS2_WAVE_TICKS_MAX) ||
	    !in_range(seg->tenths_c, QST_TCS2_TARGET_MIN, QST_TCS2_TARGET_MAX))
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "%03d%03d", seg->ticks, seg->tenths_c),
		      cap);
}

/* `Ue00000` (all off) is how a ramp after a waveform is a ramp again. */
int qst_tcs2_enc_wave_enable(char *buf, size_t cap, unsigned zone_mask)
{
	if (zone_mask == 0) {
		if (!buf || cap < sizeof(QST_TCS2_WAVE_DISABLE))
			return QST_ERR_ARG;
		memcpy(buf, QST_TCS2_WAVE_DISABLE, sizeof(QST_TCS2_WAVE_DISABLE));
		return (int)sizeof(QST_TCS2_WAVE_DISABLE) - 1;
	}
	return enc_mask(buf, cap, "Ue", zone_mask);
}

/* One requested segment as device pieces of at most 999 ticks each. */
static int plan_one(double from_c, const struct qst_wave_segment *seg,
		    struct qst_tcs2_wave_seg *out, size_t room)
{
	int end;
	if (qst_tcs2_to_tenths(seg->to_c, &end) < 0 ||
	    !in_range(end, QST_TCS2_TARGET_MIN, QST_TCS2_TARGET_MAX) ||
	    !isfinite(seg->duration_s) || seg->duration_s <= 0 ||
	    seg->duration_s > 1e5)
		return QST_ERR_ARG;
	/* Rounded up: a segment is never played faster than asked. */
	long ticks = (long)ceil(seg->duration_s * 1000.0 / QST_TCS2_WAVE_TICK_MS -
				1e-9);
	ticks = ticks < 1 ? 1 : ticks;
	long pieces = (ticks + QST_TCS2_WAVE_TICKS_MAX - 1) / QST_TCS2_WAVE_TICKS_MAX;
	if ((size_t)pieces > room)
		return QST_ERR_ARG;
	long done = 0;
	for (long i = 0; i < pieces; i++) {
		long t = (ticks - done) / (pieces - i);
		done += t;
		double c = from_c + (seg->to_c - from_c) * (double)done / (double)ticks;
		out[i].ticks = (int)t;
		out[i].tenths_c = i == pieces - 1 ? end : (int)lround(c * 10.0);
	}
	return (int)pieces;
}

int qst_tcs2_wave_plan(double from_c, const struct qst_wave_segment *seg,
		       size_t n, struct qst_tcs2_wave_seg *out, size_t cap)
{
	if (!seg || !out || !isfinite(from_c))
		return QST_ERR_ARG;
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		int k = plan_one(from_c, &seg[i], out + used, cap - used);
		if (k < 0)
			return k;
		used += (size_t)k;
		from_c = seg[i].to_c;
	}
	return used > QST_TCS2_WAVE_SEG_MAX ? QST_ERR_ARG : (int)used;
}

/* ------------------------------------------------- read-back, errors, keys */

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* One token `Xddd`: letter and 1..6 digits, ended by whitespace or NUL. */
static const char *param_token(const char *s, char *letter, int *value)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return NULL;
	*letter = *s++;
	int v = 0, n = 0;
	while (is_digit(*s) && n < 6) {
		v = v * 10 + (*s++ - '0');
		n++;
	}
	if (n == 0 || (*s && *s != ' ' && *s != '\t'))
		return NULL;
	*value = v;
	return s;
}

/* `S` carries five 0/1 characters, not a number: read them as such. */
static int mask_of_digits(const char *s, size_t n)
{
	unsigned mask = 0;
	for (size_t z = 0; z < n; z++) {
		if (s[z] != '0' && s[z] != '1')
			return -1;
		mask |= (s[z] == '1' ? 1u : 0u) << z;
	}
	return (int)mask;
}

int qst_tcs2_parse_params(const char *line, struct qst_tcs2_params_line *out)
{
	if (!line || !out)
		return QST_ERR_ARG;
	struct qst_tcs2_params_line r = { .neutral = -1, .zone_mask = -1,
		.target = -1, .rise = -1, .back = -1, .duration = -1 };
	int tokens = 0;
	const char *s = skip_space(line);
	while (*s) {
		char letter;
		int v;
		const char *start = s;
		s = param_token(s, &letter, &v);
		if (!s)
			return QST_ERR_DATA;
		switch (letter) {
		case 'N': r.neutral = v; break;
		case 'S':
			if (s - start != 1 + QST_TCS2_ZONES)
				return QST_ERR_DATA;
			r.zone_mask = mask_of_digits(start + 1, QST_TCS2_ZONES);
			if (r.zone_mask < 0)
				return QST_ERR_DATA;
			break;
		case 'C': r.target = v; break;
		case 'V': r.rise = v; break;
		case 'R': r.back = v; break;
		case 'D': r.duration = v; break;
		default: break; /* T, I, Y and whatever a later fw adds */
		}
		tokens++;
		s = skip_space(s);
	}
	if (r.neutral >= 0 && tokens >= 2 && r.target < 0) {
		r.kind = QST_TCS2_PARAM_HEADER;
	} else if (r.neutral < 0 && r.target >= 0 && r.rise >= 0 &&
		   r.back >= 0 && r.duration >= 0) {
		r.kind = QST_TCS2_PARAM_ZONE;
	} else {
		return QST_ERR_DATA;
	}
	*out = r;
	return QST_OK;
}

/* T255 I1 Y0000 are the power-up values T-WL2's example shows. */
int qst_tcs2_format_params_header(char *buf, size_t cap, int neutral,
				  unsigned zone_mask)
{
	if (!buf || !in_range(neutral, 0, 999) || zone_mask > 0x1f)
		return QST_ERR_ARG;
	char s[QST_TCS2_ZONES + 1];
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		s[z] = (zone_mask >> z) & 1 ? '1' : '0';
	s[QST_TCS2_ZONES] = '\0';
	return finish(snprintf(buf, cap, "N%d T255 I1 Y0000 S%s", neutral, s),
		      cap);
}

int qst_tcs2_format_params_zone(char *buf, size_t cap, int target, int rise,
				int back, int duration)
{
	if (!buf || target < 0 || rise < 0 || back < 0 || duration < 0)
		return QST_ERR_ARG;
	return finish(snprintf(buf, cap, "C%d V%d R%d D%d", target, rise, back,
			       duration), cap);
}

/* Copy line without surrounding whitespace into out (cap bytes). */
static size_t trimmed(const char *line, char *out, size_t cap)
{
	const char *s = skip_space(line);
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= cap)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

int qst_tcs2_parse_errors(const char *line, int codes[QST_TCS2_ERROR_FIELDS])
{
	char t[16];
	if (!line || !codes ||
	    trimmed(line, t, sizeof(t)) != QST_TCS2_ERROR_FIELDS)
		return QST_ERR_DATA;
	for (int i = 0; i < QST_TCS2_ERROR_FIELDS; i++)
		if (!is_digit(t[i]))
			return QST_ERR_DATA;
	for (int i = 0; i < QST_TCS2_ERROR_FIELDS; i++)
		codes[i] = t[i] - '0';
	return QST_OK;
}

int qst_tcs2_parse_buttons(const char *line, unsigned *state)
{
	char t[8];
	if (!line || !state || trimmed(line, t, sizeof(t)) != QST_TCS2_BUTTONS)
		return QST_ERR_DATA;
	int m = mask_of_digits(t, QST_TCS2_BUTTONS);
	if (m < 0)
		return QST_ERR_DATA;
	*state = (unsigned)m;
	return QST_OK;
}
