/*
 * Cedrus XID stream parser and key-packet codec (drivers/xid/protocol.h).
 * Checks: every feed makes progress, the items do not depend on how the
 * stream is split into reads, and a decoded key encodes back to its packet.
 */
#include <string.h>

#include "fuzz.h"
#include "../../drivers/xid/protocol.h"

#define MAX_ITEMS 4096

struct items {
	struct qst_xid_item item[MAX_ITEMS];
	size_t n;
};

static struct items whole, split;

/* Feed data in chunks drawn from seed; seed 0 feeds it all at once. */
static void parse(const uint8_t *data, size_t size, uint32_t seed,
		  struct items *out)
{
	struct qst_xid_parser p;
	struct qst_xid_item it;
	size_t pos = 0;

	qst_xid_parser_init(&p);
	out->n = 0;
	while (pos < size) {
		size_t len = seed ? fuzz_next_chunk(&seed, 7) : size - pos;
		if (len > size - pos)
			len = size - pos;
		size_t used = 0;
		while (used < len) {
			size_t n = qst_xid_parser_feed(&p, data + pos + used,
						       len - used, &it);
			FUZZ_CHECK(n > 0 && n <= len - used);
			used += n;
			if (it.type != QST_XID_ITEM_NONE && out->n < MAX_ITEMS)
				out->item[out->n++] = it;
		}
		pos += len;
	}
	FUZZ_CHECK(p.len < QST_XID_PACKET_LEN);
}

static int same_item(const struct qst_xid_item *a, const struct qst_xid_item *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type == QST_XID_ITEM_PROTOCOL)
		return a->protocol == b->protocol;
	return a->key.port == b->key.port && a->key.key == b->key.key &&
	       a->key.pressed == b->key.pressed && a->key.rt_ms == b->key.rt_ms;
}

static void check_key(const struct qst_xid_key *k)
{
	uint8_t pkt[QST_XID_PACKET_LEN];
	struct qst_xid_key back;

	FUZZ_CHECK(k->key >= 1 && k->key <= 8);
	FUZZ_CHECK(qst_xid_encode_key(k, pkt) == QST_OK);
	FUZZ_CHECK(qst_xid_decode_key(pkt, &back) == QST_OK);
	FUZZ_CHECK(back.port == k->port && back.key == k->key &&
		   back.pressed == k->pressed && back.rt_ms == k->rt_ms);
}

FUZZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qst_xid_key k;

	parse(data, size, 0, &whole);
	parse(data, size, size ? data[0] | 1u : 1, &split);
	FUZZ_CHECK(whole.n == split.n);
	for (size_t i = 0; i < whole.n; i++) {
		FUZZ_CHECK(same_item(&whole.item[i], &split.item[i]));
		if (whole.item[i].type == QST_XID_ITEM_KEY)
			check_key(&whole.item[i].key);
	}
	/* The packet decoder alone: every bit of a valid packet is meaning. */
	if (size >= QST_XID_PACKET_LEN && qst_xid_decode_key(data, &k) == QST_OK) {
		uint8_t pkt[QST_XID_PACKET_LEN];
		check_key(&k);
		FUZZ_CHECK(qst_xid_encode_key(&k, pkt) == QST_OK);
		FUZZ_CHECK(memcmp(pkt, data, sizeof(pkt)) == 0);
	}
	return 0;
}
