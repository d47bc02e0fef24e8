/*
 * TCS II stream parser (drivers/tcs2/protocol.h). Checks, beyond "no
 * crash": every feed makes progress, the items do not depend on how the
 * stream is split into reads, and a parsed frame formats back to itself.
 */
#include <string.h>

#include "fuzz.h"
#include "../../drivers/tcs2/protocol.h"

#define MAX_ITEMS 4096

struct items {
	struct qst_tcs2_item item[MAX_ITEMS];
	size_t n;
};

static struct items whole, split;

/* Feed data in chunks drawn from seed; seed 0 feeds it all at once. */
static void parse(const uint8_t *data, size_t size, uint32_t seed,
		  struct items *out)
{
	struct qst_tcs2_parser p;
	struct qst_tcs2_item it;
	size_t pos = 0;

	qst_tcs2_parser_init(&p);
	out->n = 0;
	while (pos < size) {
		size_t len = seed ? fuzz_next_chunk(&seed, 17) : size - pos;
		if (len > size - pos)
			len = size - pos;
		size_t used = 0;
		while (used < len) {
			size_t n = qst_tcs2_parser_feed(&p, data + pos + used,
							len - used, &it);
			FUZZ_CHECK(n > 0 && n <= len - used);
			used += n;
			if (it.type != QST_TCS2_ITEM_NONE && out->n < MAX_ITEMS)
				out->item[out->n++] = it;
		}
		pos += len;
	}
	FUZZ_CHECK(p.len < sizeof(p.line));
}

static void check_round_trip(const struct qst_tcs2_frame *f)
{
	char line[64];
	struct qst_tcs2_frame back;

	if (qst_tcs2_format_frame(f, line, sizeof(line)) < 0)
		return; /* a signed neutral: the device never sends one */
	FUZZ_CHECK(line[0] == '\r');
	FUZZ_CHECK(qst_tcs2_parse_frame(line + 1, strlen(line + 1), &back) ==
		   QST_OK);
	FUZZ_CHECK(memcmp(&back, f, sizeof(back)) == 0);
}

static int same_item(const struct qst_tcs2_item *a,
		     const struct qst_tcs2_item *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type == QST_TCS2_ITEM_FRAME)
		return memcmp(&a->frame, &b->frame, sizeof(a->frame)) == 0;
	return strcmp(a->text, b->text) == 0;
}

FUZZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qst_tcs2_frame f;

	parse(data, size, 0, &whole);
	parse(data, size, size ? data[0] | 1u : 1, &split);
	FUZZ_CHECK(whole.n == split.n);
	for (size_t i = 0; i < whole.n; i++) {
		FUZZ_CHECK(same_item(&whole.item[i], &split.item[i]));
		if (whole.item[i].type == QST_TCS2_ITEM_FRAME)
			check_round_trip(&whole.item[i].frame);
		else
			FUZZ_CHECK(memchr(whole.item[i].text, '\0',
					  QST_TCS2_LINE_MAX) != NULL);
	}
	/* The frame parser alone, on the raw bytes as one line. */
	if (qst_tcs2_parse_frame((const char *)data, size, &f) == QST_OK)
		check_round_trip(&f);
	return 0;
}
