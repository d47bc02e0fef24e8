/*
 * Mark-10 force gauge reply parser and codecs (drivers/mark10/protocol.h).
 * Checks: every feed makes progress, the items do not depend on how the
 * stream is split into reads, the parser's counters and line buffer stay
 * consistent, every item's text is a clean line that classifies the same
 * way again, readings are finite and format back to the same value, and
 * an encoded command reads back as the line it was made from.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "../../drivers/mark10/protocol.h"

#define MAX_ITEMS 4096

struct items {
	struct qst_mark10_item item[MAX_ITEMS];
	size_t n;
	size_t total; /* items seen, also past MAX_ITEMS */
	struct qst_mark10_parser p;
};

static struct items whole, split;

/* Feed data in chunks drawn from seed; seed 0 feeds it all at once. */
static void parse(const uint8_t *data, size_t size, uint32_t seed,
		  struct items *out)
{
	struct qst_mark10_item it;
	size_t pos = 0;

	qst_mark10_parser_init(&out->p);
	out->n = 0;
	out->total = 0;
	while (pos < size) {
		size_t len = seed ? fuzz_next_chunk(&seed, 13) : size - pos;
		if (len > size - pos)
			len = size - pos;
		size_t used = 0;
		while (used < len) {
			size_t n = qst_mark10_parser_feed(&out->p,
							  data + pos + used,
							  len - used, &it);
			FUZZ_CHECK(n > 0 && n <= len - used);
			used += n;
			FUZZ_CHECK(out->p.len < sizeof(out->p.line));
			if (it.type == QST_MARK10_ITEM_NONE)
				continue;
			out->total++;
			if (out->n < MAX_ITEMS)
				out->item[out->n++] = it;
		}
		pos += len;
	}
	/* Every item is counted once, by its type. */
	FUZZ_CHECK(out->p.readings + out->p.errors + out->p.lines ==
		   out->total);
}

static int same_item(const struct qst_mark10_item *a,
		     const struct qst_mark10_item *b)
{
	if (a->type != b->type || strcmp(a->text, b->text) != 0)
		return 0;
	if (a->type == QST_MARK10_ITEM_READING)
		return a->reading.value == b->reading.value &&
		       signbit(a->reading.value) == signbit(b->reading.value) &&
		       a->reading.unit == b->reading.unit;
	if (a->type == QST_MARK10_ITEM_ERROR)
		return a->error == b->error;
	return 1;
}

static void check_reading(const struct qst_mark10_reading *r)
{
	FUZZ_CHECK(isfinite(r->value));
	FUZZ_CHECK(r->unit >= QST_MARK10_UNIT_UNKNOWN &&
		   r->unit < QST_MARK10_UNIT_COUNT);
	if (r->unit != QST_MARK10_UNIT_UNKNOWN)
		FUZZ_CHECK(isfinite(r->value * qst_mark10_unit_newtons(r->unit)));
}

/* Digits after the decimal point of the number in a reading line. */
static int decimals_of(const char *text)
{
	const char *dot = strchr(text, '.');
	int d = 0;
	if (!dot)
		return 0;
	while (dot[1 + d] >= '0' && dot[1 + d] <= '9')
		d++;
	return d;
}

/*
 * A reading with a unit, formatted as the gauge does with as many
 * decimals as it arrived with, parses back to the same value and unit.
 * The parser takes numbers of at most 32 characters, so a formatted
 * number longer than that (|value| ≥ 1e25 or so) is not expected back.
 */
static void check_format_round_trip(const struct qst_mark10_item *it)
{
	const struct qst_mark10_reading *r = &it->reading;
	int d = decimals_of(it->text);
	char buf[128];
	struct qst_mark10_reading back;

	if (r->unit == QST_MARK10_UNIT_UNKNOWN || d > 6)
		return;
	int n = qst_mark10_format_reading(r->value, d, r->unit, buf,
					  sizeof(buf));
	FUZZ_CHECK(n > 2);
	FUZZ_CHECK(buf[n - 2] == '\r' && buf[n - 1] == '\n');
	FUZZ_CHECK(strchr(buf, ' ') != NULL);
	if (strchr(buf, ' ') - buf > 32)
		return;
	FUZZ_CHECK(qst_mark10_parse_reading(buf, (size_t)n - 2, &back) ==
		   QST_OK);
	FUZZ_CHECK(back.value == r->value && back.unit == r->unit);
}

static void check_item(const struct qst_mark10_item *it)
{
	size_t len = strnlen(it->text, QST_MARK10_LINE_MAX);
	struct qst_mark10_reading r;
	enum qst_mark10_unit u;
	int code;

	/* A complete, non-empty line of printable bytes, without its end. */
	FUZZ_CHECK(len > 0 && len < QST_MARK10_LINE_MAX);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK((it->text[i] >= 0x20 && it->text[i] < 0x7f) ||
			   it->text[i] == '\t');
	int is_reading = qst_mark10_parse_reading(it->text, len, &r) == QST_OK;
	int is_error = qst_mark10_parse_error(it->text, len, &code) == QST_OK;
	switch (it->type) {
	case QST_MARK10_ITEM_READING:
		FUZZ_CHECK(is_reading);
		FUZZ_CHECK(r.value == it->reading.value &&
			   r.unit == it->reading.unit);
		check_reading(&it->reading);
		check_format_round_trip(it);
		break;
	case QST_MARK10_ITEM_ERROR:
		FUZZ_CHECK(!is_reading && is_error && code == it->error);
		FUZZ_CHECK(it->text[0] == '*' && len >= 2 && len <= 4);
		FUZZ_CHECK(it->error >= 0 && it->error <= 999);
		break;
	case QST_MARK10_ITEM_TEXT:
		FUZZ_CHECK(!is_reading && !is_error);
		break;
	default:
		FUZZ_CHECK(0);
	}
	if (qst_mark10_parse_list_unit(it->text, len, &u) == QST_OK)
		FUZZ_CHECK(u > QST_MARK10_UNIT_UNKNOWN &&
			   u < QST_MARK10_UNIT_COUNT);
}

/* The reply parsers alone, on the raw bytes as one line (NULs and all). */
static void check_raw(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct qst_mark10_reading r;
	enum qst_mark10_unit u;
	int code;

	if (qst_mark10_parse_reading(s, size, &r) == QST_OK)
		check_reading(&r);
	if (qst_mark10_parse_error(s, size, &code) == QST_OK)
		FUZZ_CHECK(code >= 0 && code <= 999 && size >= 2 && size <= 4);
	if (qst_mark10_parse_list_unit(s, size, &u) == QST_OK)
		FUZZ_CHECK(u > QST_MARK10_UNIT_UNKNOWN &&
			   u < QST_MARK10_UNIT_COUNT);
	u = qst_mark10_parse_unit(s, size);
	FUZZ_CHECK(u >= QST_MARK10_UNIT_UNKNOWN && u < QST_MARK10_UNIT_COUNT);
	if (u != QST_MARK10_UNIT_UNKNOWN) {
		FUZZ_CHECK(size <= 3);
		FUZZ_CHECK(isfinite(qst_mark10_unit_newtons(u)));
	}
}

/*
 * The command encoder on the input's first line: a command of 1..14
 * characters is written with CR after it, any other is refused, and the
 * encoded bytes read back, through the same line parser, as that line.
 */
static void check_encode(const uint8_t *data, size_t size)
{
	char cmd[128], buf[QST_MARK10_CMD_MAX];
	size_t len = 0;

	while (len < size && len < sizeof(cmd) - 1 && data[len] != '\r' &&
	       data[len] != '\n' && data[len] != '\0')
		len++;
	memcpy(cmd, data, len);
	cmd[len] = '\0';
	int n = qst_mark10_enc(buf, sizeof(buf), cmd);
	if (len == 0 || len + 2 > sizeof(buf)) {
		FUZZ_CHECK(n == QST_ERR_ARG);
		return;
	}
	FUZZ_CHECK(n == (int)len + 1);
	FUZZ_CHECK(memcmp(buf, cmd, len) == 0 && buf[len] == '\r' &&
		   buf[len + 1] == '\0');

	struct qst_mark10_parser p;
	struct qst_mark10_item it;
	int clean = 1;
	for (size_t i = 0; i < len; i++)
		clean &= (cmd[i] >= 0x20 && cmd[i] < 0x7f) || cmd[i] == '\t';
	qst_mark10_parser_init(&p);
	FUZZ_CHECK(qst_mark10_parser_feed(&p, (const uint8_t *)buf, (size_t)n,
					  &it) == (size_t)n);
	if (clean) {
		FUZZ_CHECK(it.type != QST_MARK10_ITEM_NONE);
		FUZZ_CHECK(strcmp(it.text, cmd) == 0);
	} else {
		FUZZ_CHECK(it.type == QST_MARK10_ITEM_NONE && p.dropped == 1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	/* Each unit's three spellings name it, and only it. */
	for (int u = QST_MARK10_UNIT_N; u < QST_MARK10_UNIT_COUNT; u++) {
		const char *s[3] = { qst_mark10_unit_command(u),
				     qst_mark10_unit_label(u),
				     qst_mark10_unit_list_label(u) };
		for (int i = 0; i < 3; i++)
			FUZZ_CHECK(s[i] && qst_mark10_parse_unit(s[i], strlen(s[i])) ==
						   (enum qst_mark10_unit)u);
		FUZZ_CHECK(qst_mark10_unit_newtons(u) > 0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse(data, size, 0, &whole);
	parse(data, size, size ? data[0] | 1u : 1, &split);
	FUZZ_CHECK(whole.total == split.total);
	FUZZ_CHECK(whole.p.readings == split.p.readings &&
		   whole.p.errors == split.p.errors &&
		   whole.p.lines == split.p.lines &&
		   whole.p.dropped == split.p.dropped);
	/* ... and they end in the same state, mid-line or not. */
	FUZZ_CHECK(whole.p.len == split.p.len &&
		   whole.p.corrupt == split.p.corrupt &&
		   memcmp(whole.p.line, split.p.line, whole.p.len) == 0);
	for (size_t i = 0; i < whole.n; i++) {
		FUZZ_CHECK(same_item(&whole.item[i], &split.item[i]));
		check_item(&whole.item[i]);
	}
	check_raw(data, size);
	check_encode(data, size);
	return 0;
}
