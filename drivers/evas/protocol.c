/*
 * QST.Lab eVAS wire protocol: line classification, scaling and the stream
 * parser (devices.md §1.7). No I/O here.
 */
#define LOG_PREFIX "evas-proto: "

#include <stdio.h>
#include <string.h>

#include "protocol.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* [sign] 1..QST_EVAS_DIGITS_MAX digits and nothing else. */
static int parse_integer(const char *s, size_t len, int32_t *out)
{
	size_t i = 0;
	bool negative = false;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		negative = s[i++] == '-';
	if (i == len || len - i > QST_EVAS_DIGITS_MAX)
		return QST_ERR_DATA;
	int32_t v = 0;
	for (; i < len; i++) {
		if (!is_digit(s[i]))
			return QST_ERR_DATA;
		v = v * 10 + (s[i] - '0');
	}
	*out = negative ? -v : v;
	return QST_OK;
}

/*
 * Markers are the three capitals the known client sees (devices.md §1.7);
 * its meaning (left/centre/right button?) is a guess, so they pass through
 * as they came. `999` is told apart by its digits as sent, so "+999" or
 * "0999" would be a rating: the slider is not known to send either.
 */
int qst_evas_parse_line(const char *line, size_t len,
			struct qst_evas_item *out)
{
	if (!line || !out)
		return QST_ERR_ARG;
	while (len > 0 && is_blank(line[0])) {
		line++;
		len--;
	}
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	if (len == 1 && (line[0] == 'L' || line[0] == 'C' || line[0] == 'R')) {
		*out = (struct qst_evas_item){ QST_EVAS_ITEM_MARKER, -1, line[0] };
		return QST_OK;
	}
	if (len == 3 && memcmp(line, "999", 3) == 0) {
		*out = (struct qst_evas_item){ QST_EVAS_ITEM_SENTINEL,
					       QST_EVAS_SENTINEL, 'S' };
		return QST_OK;
	}
	int32_t raw;
	if (parse_integer(line, len, &raw) < 0)
		return QST_ERR_DATA;
	*out = (struct qst_evas_item){ QST_EVAS_ITEM_RATING, raw, 0 };
	return QST_OK;
}

bool qst_evas_scale(int32_t raw, int full_scale, double *value)
{
	if (full_scale <= 0)
		full_scale = QST_EVAS_DEFAULT_FULL_SCALE;
	bool clamped = raw < 0 || raw > full_scale;
	int32_t r = raw < 0 ? 0 : raw > full_scale ? full_scale : raw;
	*value = (double)r * 100.0 / (double)full_scale;
	return clamped;
}

int qst_evas_format_rating(int32_t raw, const char *eol, char *buf,
			   size_t cap)
{
	if (!buf || !eol || (strcmp(eol, "\r\n") != 0 && strcmp(eol, "\r") != 0 &&
			     strcmp(eol, "\n") != 0))
		return QST_ERR_ARG;
	int n = snprintf(buf, cap, "%ld%s", (long)raw, eol);
	if (n < 0 || (size_t)n >= cap)
		return QST_ERR_ARG;
	return n;
}

/* ------------------------------------------------------- stream parser */

void qst_evas_parser_init(struct qst_evas_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static bool is_printable(uint8_t b)
{
	return (b >= 0x20 && b < 0x7f) || b == '\t';
}

static void drop_line(struct qst_evas_parser *p, size_t bytes)
{
	p->dropped++;
	p->discarded += bytes;
	qst_dbg("dropped a line of %zu bytes", bytes);
}

static void end_line(struct qst_evas_parser *p, struct qst_evas_item *item)
{
	if (p->corrupt) {
		drop_line(p, p->corrupt_bytes);
	} else if (p->len > 0) {
		if (qst_evas_parse_line(p->line, p->len, item) < 0) {
			item->type = QST_EVAS_ITEM_NONE;
			drop_line(p, p->len);
		} else if (item->type == QST_EVAS_ITEM_RATING) {
			p->ratings++;
		} else {
			p->markers++;
		}
	}
	p->len = 0;
	p->corrupt = false;
	p->corrupt_bytes = 0;
}

static void add_byte(struct qst_evas_parser *p, uint8_t b)
{
	if (!p->corrupt && (!is_printable(b) || p->len == QST_EVAS_LINE_MAX)) {
		p->corrupt = true;
		p->corrupt_bytes = p->len;
	}
	if (p->corrupt) {
		p->corrupt_bytes++;
		return;
	}
	p->line[p->len++] = (char)b;
}

size_t qst_evas_parser_feed(struct qst_evas_parser *p, const uint8_t *buf,
			    size_t len, struct qst_evas_item *item)
{
	item->type = QST_EVAS_ITEM_NONE;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\r' || buf[i] == '\n')
			end_line(p, item);
		else
			add_byte(p, buf[i]);
		if (item->type != QST_EVAS_ITEM_NONE)
			return i + 1;
	}
	return len;
}
