/*
 * Mark-10 force gauge wire protocol (devices.md §4.1): units, command
 * encoding, reply shapes and the line parser. No I/O here.
 */
#define LOG_PREFIX "mark10-proto: "

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

struct unit_def {
	const char *command; /* setter, devices.md §4.1 "Units" */
	const char *label;   /* as readings show it */
	const char *list;    /* as LIST shows it */
	double newtons;
};

/*
 * 1 kgf = 9.80665 N (qst-domain.md §2.9); 1 lbf = 0.45359237 kg × g;
 * 1 ozf = 1/16 lbf. The reading labels follow the manual's examples
 * ("lbF", "N"); the other spellings follow the same pattern.
 */
static const struct unit_def units[QST_MARK10_UNIT_COUNT] = {
	[QST_MARK10_UNIT_N] = { "N", "N", "N", 1.0 },
	[QST_MARK10_UNIT_MN] = { "MN", "mN", "MN", 1e-3 },
	[QST_MARK10_UNIT_KN] = { "KN", "kN", "KN", 1e3 },
	[QST_MARK10_UNIT_LBF] = { "LB", "lbF", "LBF", 4.4482216152605 },
	[QST_MARK10_UNIT_OZF] = { "OZ", "ozF", "OZF", 4.4482216152605 / 16.0 },
	[QST_MARK10_UNIT_KGF] = { "KG", "kgF", "KGF", 9.80665 },
	[QST_MARK10_UNIT_GF] = { "G", "gF", "GF", 9.80665e-3 },
};

static bool unit_ok(enum qst_mark10_unit u)
{
	return u > QST_MARK10_UNIT_UNKNOWN && u < QST_MARK10_UNIT_COUNT;
}

double qst_mark10_unit_newtons(enum qst_mark10_unit u)
{
	return unit_ok(u) ? units[u].newtons : NAN;
}

const char *qst_mark10_unit_command(enum qst_mark10_unit u)
{
	return unit_ok(u) ? units[u].command : NULL;
}

const char *qst_mark10_unit_label(enum qst_mark10_unit u)
{
	return unit_ok(u) ? units[u].label : "?";
}

const char *qst_mark10_unit_list_label(enum qst_mark10_unit u)
{
	return unit_ok(u) ? units[u].list : "?";
}

static bool same_nocase(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (toupper((unsigned char)a[i]) != toupper((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * "mN" and "MN" both mean millinewton here: the gauge has no meganewton,
 * and LIST writes units in capitals (devices.md §4.1 shows "LBF").
 */
enum qst_mark10_unit qst_mark10_parse_unit(const char *s, size_t len)
{
	if (!s)
		return QST_MARK10_UNIT_UNKNOWN;
	for (int u = 1; u < QST_MARK10_UNIT_COUNT; u++) {
		if (same_nocase(s, len, units[u].list) ||
		    same_nocase(s, len, units[u].command))
			return (enum qst_mark10_unit)u;
	}
	return QST_MARK10_UNIT_UNKNOWN;
}

int qst_mark10_enc(char *buf, size_t cap, const char *cmd)
{
	if (!buf || !cmd || !cmd[0])
		return QST_ERR_ARG;
	int n = snprintf(buf, cap, "%s" QST_MARK10_TERM, cmd);
	if (n < 0 || (size_t)n >= cap)
		return QST_ERR_ARG;
	return n;
}

/* ------------------------------------------------------------- replies */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * [sign] digits [. digits], or [sign] . digits. Strict, so "nan", "inf",
 * hex and exponents (which the gauge never sends) are not readings.
 * Returns the length of the number, 0 if there is none.
 */
static size_t number_length(const char *s, size_t len)
{
	size_t i = 0, digits = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < len && is_digit(s[i])) {
		i++;
		digits++;
	}
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && is_digit(s[i])) {
			i++;
			digits++;
		}
	}
	return digits > 0 ? i : 0;
}

int qst_mark10_parse_reading(const char *line, size_t len,
			     struct qst_mark10_reading *out)
{
	if (!line || !out)
		return QST_ERR_ARG;
	size_t i = 0;
	while (i < len && line[i] == ' ')
		i++;
	size_t n = number_length(line + i, len - i);
	if (n == 0 || n > 32)
		return QST_ERR_DATA;
	char num[40];
	memcpy(num, line + i, n);
	num[n] = '\0';
	i += n;
	size_t unit_start = i;
	while (unit_start < len && line[unit_start] == ' ')
		unit_start++;
	size_t unit_end = len;
	while (unit_end > unit_start && line[unit_end - 1] == ' ')
		unit_end--;
	enum qst_mark10_unit unit = QST_MARK10_UNIT_UNKNOWN;
	if (unit_end > unit_start) {
		unit = qst_mark10_parse_unit(line + unit_start,
					     unit_end - unit_start);
		if (unit == QST_MARK10_UNIT_UNKNOWN)
			return QST_ERR_DATA;
	}
	out->value = strtod(num, NULL);
	out->unit = unit;
	return QST_OK;
}

int qst_mark10_format_reading(double value, int decimals,
			      enum qst_mark10_unit unit, char *buf, size_t cap)
{
	if (!buf || !isfinite(value) || decimals < 0 || decimals > 6 ||
	    !unit_ok(unit))
		return QST_ERR_ARG;
	int n = snprintf(buf, cap, "%.*f %s\r\n", decimals, value,
			 units[unit].label);
	if (n < 0 || (size_t)n >= cap)
		return QST_ERR_ARG;
	return n;
}

int qst_mark10_parse_error(const char *line, size_t len, int *code)
{
	if (!line || !code || len < 2 || len > 4 || line[0] != '*')
		return QST_ERR_DATA;
	int v = 0;
	for (size_t i = 1; i < len; i++) {
		if (!is_digit(line[i]))
			return QST_ERR_DATA;
		v = v * 10 + (line[i] - '0');
	}
	*code = v;
	return QST_OK;
}

int qst_mark10_parse_list_unit(const char *line, size_t len,
			       enum qst_mark10_unit *unit)
{
	if (!line || !unit)
		return QST_ERR_ARG;
	const char *end = line + len;
	const char *first = memchr(line, ';', len);
	if (!first)
		return QST_ERR_DATA;
	const char *field = first + 1;
	const char *second = memchr(field, ';', (size_t)(end - field));
	if (!second)
		return QST_ERR_DATA; /* LIST has many fields, not two */
	enum qst_mark10_unit u =
		qst_mark10_parse_unit(field, (size_t)(second - field));
	if (u == QST_MARK10_UNIT_UNKNOWN)
		return QST_ERR_DATA;
	*unit = u;
	return QST_OK;
}

/* ------------------------------------------------------- stream parser */

void qst_mark10_parser_init(struct qst_mark10_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static bool is_printable(uint8_t b)
{
	return (b >= 0x20 && b < 0x7f) || b == '\t';
}

static void classify(struct qst_mark10_parser *p, struct qst_mark10_item *item)
{
	memcpy(item->text, p->line, p->len);
	item->text[p->len] = '\0';
	if (qst_mark10_parse_reading(p->line, p->len, &item->reading) == QST_OK) {
		item->type = QST_MARK10_ITEM_READING;
		p->readings++;
	} else if (qst_mark10_parse_error(p->line, p->len, &item->error) ==
		   QST_OK) {
		item->type = QST_MARK10_ITEM_ERROR;
		p->errors++;
	} else {
		item->type = QST_MARK10_ITEM_TEXT;
		p->lines++;
	}
}

static void end_line(struct qst_mark10_parser *p, struct qst_mark10_item *item)
{
	if (p->corrupt) {
		p->dropped++;
		qst_dbg("dropped a corrupt line of %zu bytes", p->len);
	} else if (p->len > 0) {
		classify(p, item);
	}
	p->len = 0;
	p->corrupt = false;
}

static void add_byte(struct qst_mark10_parser *p, uint8_t b)
{
	if (p->corrupt)
		return;
	if (!is_printable(b) || p->len + 1 >= sizeof(p->line)) {
		p->corrupt = true;
		return;
	}
	p->line[p->len++] = (char)b;
}

size_t qst_mark10_parser_feed(struct qst_mark10_parser *p, const uint8_t *buf,
			      size_t len, struct qst_mark10_item *item)
{
	item->type = QST_MARK10_ITEM_NONE;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\r' || buf[i] == '\n')
			end_line(p, item);
		else
			add_byte(p, buf[i]);
		if (item->type != QST_MARK10_ITEM_NONE)
			return i + 1;
	}
	return len;
}
