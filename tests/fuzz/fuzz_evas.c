/*
 * QST.Lab eVAS line parser (drivers/evas/protocol.h). Checks: every feed
 * makes progress, the items and the discard count do not depend on how
 * the stream is split into reads, every item has the documented shape, a
 * rating formats back to a line that parses as itself, and scaling stays
 * within 0..100.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "../../drivers/evas/protocol.h"

#define MAX_ITEMS 4096

struct items {
	struct qst_evas_item item[MAX_ITEMS];
	size_t n;
	struct qst_evas_parser p;
};

static struct items whole, split;

/* Feed data in chunks drawn from seed; seed 0 feeds it all at once. */
static void parse(const uint8_t *data, size_t size, uint32_t seed,
		  struct items *out)
{
	struct qst_evas_item it;
	size_t pos = 0;

	qst_evas_parser_init(&out->p);
	out->n = 0;
	while (pos < size) {
		size_t len = seed ? fuzz_next_chunk(&seed, 7) : size - pos;
		if (len > size - pos)
			len = size - pos;
		size_t used = 0;
		while (used < len) {
			size_t n = qst_evas_parser_feed(&out->p, data + pos + used,
							len - used, &it);
			FUZZ_CHECK(n > 0 && n <= len - used);
			used += n;
			FUZZ_CHECK(out->p.len <= QST_EVAS_LINE_MAX);
			if (it.type == QST_EVAS_ITEM_NONE)
				continue;
			/* An item ends the read at its CR or LF. */
			uint8_t end = data[pos + used - 1];
			FUZZ_CHECK(end == '\r' || end == '\n');
			if (out->n < MAX_ITEMS)
				out->item[out->n++] = it;
		}
		pos += len;
	}
	FUZZ_CHECK(out->p.discarded <= size);
	FUZZ_CHECK(out->p.dropped <= out->p.discarded);
}

static void check_item(const struct qst_evas_item *it)
{
	char line[32];
	struct qst_evas_item back;
	double v;

	switch (it->type) {
	case QST_EVAS_ITEM_RATING:
		FUZZ_CHECK(it->marker == 0);
		FUZZ_CHECK(it->raw >= -999999 && it->raw <= 999999);
		int n = qst_evas_format_rating(it->raw, "\r\n", line,
					       sizeof(line));
		FUZZ_CHECK(n > 2);
		FUZZ_CHECK(qst_evas_parse_line(line, (size_t)n - 2, &back) ==
			   QST_OK);
		FUZZ_CHECK(back.raw == it->raw || (it->raw == 999 &&
			   back.type == QST_EVAS_ITEM_SENTINEL));
		for (int fs = 1; fs <= 100000; fs *= 10) {
			bool clamped = qst_evas_scale(it->raw, fs, &v);
			FUZZ_CHECK(v >= 0.0 && v <= 100.0);
			FUZZ_CHECK(clamped == (it->raw < 0 || it->raw > fs));
		}
		break;
	case QST_EVAS_ITEM_MARKER:
		FUZZ_CHECK(it->marker == 'L' || it->marker == 'C' ||
			   it->marker == 'R');
		FUZZ_CHECK(it->raw == -1);
		break;
	case QST_EVAS_ITEM_SENTINEL:
		FUZZ_CHECK(it->marker == 'S' && it->raw == QST_EVAS_SENTINEL);
		break;
	default:
		FUZZ_CHECK(0);
	}
}

static int same_item(const struct qst_evas_item *a, const struct qst_evas_item *b)
{
	return a->type == b->type && a->raw == b->raw && a->marker == b->marker;
}

FUZZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse(data, size, 0, &whole);
	parse(data, size, size ? data[0] | 1u : 1, &split);
	FUZZ_CHECK(whole.n == split.n);
	FUZZ_CHECK(whole.p.discarded == split.p.discarded);
	FUZZ_CHECK(whole.p.dropped == split.p.dropped);
	FUZZ_CHECK(whole.p.ratings + whole.p.markers >= whole.n);
	for (size_t i = 0; i < whole.n; i++) {
		FUZZ_CHECK(same_item(&whole.item[i], &split.item[i]));
		check_item(&whole.item[i]);
	}
	/* The line classifier alone, on the input as one line. */
	struct qst_evas_item it;
	int r = qst_evas_parse_line((const char *)data, size, &it);
	FUZZ_CHECK(r == QST_OK || r == QST_ERR_DATA);
	if (r == QST_OK)
		check_item(&it);
	return 0;
}
