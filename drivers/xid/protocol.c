/*
 * Cedrus XID wire protocol: key packet codec and stream parser
 * (devices.md §3.3, §3.4). No I/O here.
 */
#define LOG_PREFIX "xid-proto: "

#include <string.h>

#include "protocol.h"

static const char probe_reply_prefix[] = "_xid";

/*
 * A packet is impossible if its port has bits 2-3 set (pyxid's
 * INVALID_PORT_BITS) or its RT reaches 2^24 ms: the vendor library notes
 * packets stop parsing after 4.66 h of timer run, and the station resets
 * the timer at every trial, so a top byte other than 0 marks a misaligned
 * window rather than a real reaction time (devices.md §3.4).
 */
int qst_xid_decode_key(const uint8_t pkt[QST_XID_PACKET_LEN],
		       struct qst_xid_key *out)
{
	if (pkt[0] != 'k' || (pkt[1] & QST_XID_INVALID_PORT_BITS) || pkt[5] != 0)
		return QST_ERR_DATA;
	int wire_key = pkt[1] >> QST_XID_KEY_SHIFT;
	out->port = pkt[1] & QST_XID_PORT_MASK;
	out->pressed = (pkt[1] & QST_XID_PRESS_BIT) != 0;
	out->key = wire_key == 0 ? 8 : wire_key;
	out->rt_ms = (uint32_t)pkt[2] | (uint32_t)pkt[3] << 8 |
		     (uint32_t)pkt[4] << 16 | (uint32_t)pkt[5] << 24;
	return QST_OK;
}

int qst_xid_encode_key(const struct qst_xid_key *k,
		       uint8_t pkt[QST_XID_PACKET_LEN])
{
	if (!k || k->key < 1 || k->key > 8 || k->port < 0 ||
	    k->port > QST_XID_PORT_MASK || (k->port & QST_XID_INVALID_PORT_BITS))
		return QST_ERR_ARG;
	pkt[0] = 'k';
	pkt[1] = (uint8_t)(k->port | (k->pressed ? QST_XID_PRESS_BIT : 0) |
			   ((k->key % 8) << QST_XID_KEY_SHIFT));
	for (int i = 0; i < 4; i++)
		pkt[2 + i] = (uint8_t)(k->rt_ms >> (8 * i));
	return QST_OK;
}

void qst_xid_parser_init(struct qst_xid_parser *p)
{
	memset(p, 0, sizeof(*p));
}

enum verdict { INCOMPLETE, REJECT, COMPLETE };

static enum verdict judge_key(const struct qst_xid_parser *p,
			      struct qst_xid_item *item)
{
	if (p->len >= 2 && (p->pending[1] & QST_XID_INVALID_PORT_BITS))
		return REJECT;
	if (p->len < QST_XID_PACKET_LEN)
		return INCOMPLETE;
	if (qst_xid_decode_key(p->pending, &item->key) < 0)
		return REJECT;
	item->type = QST_XID_ITEM_KEY;
	return COMPLETE;
}

static enum verdict judge_probe_reply(const struct qst_xid_parser *p,
				      struct qst_xid_item *item)
{
	size_t prefix = sizeof(probe_reply_prefix) - 1;
	size_t n = p->len < prefix ? p->len : prefix;
	if (memcmp(p->pending, probe_reply_prefix, n) != 0)
		return REJECT;
	if (p->len < QST_XID_PROBE_REPLY_LEN)
		return INCOMPLETE;
	uint8_t digit = p->pending[prefix];
	if (digit < '0' || digit > '9')
		return REJECT;
	item->type = QST_XID_ITEM_PROTOCOL;
	item->protocol = digit - '0';
	return COMPLETE;
}

static enum verdict judge(const struct qst_xid_parser *p,
			  struct qst_xid_item *item)
{
	if (p->pending[0] == 'k')
		return judge_key(p, item);
	if (p->pending[0] == '_')
		return judge_probe_reply(p, item);
	return REJECT;
}

/* Drop rejected leading bytes until the window is plausible or empty. */
static void settle(struct qst_xid_parser *p, struct qst_xid_item *item)
{
	while (p->len > 0) {
		enum verdict v = judge(p, item);
		if (v == INCOMPLETE)
			return;
		if (v == COMPLETE) {
			p->packets++;
			p->len = 0;
			return;
		}
		item->type = QST_XID_ITEM_NONE;
		p->garbage++;
		memmove(p->pending, p->pending + 1, --p->len);
	}
}

size_t qst_xid_parser_feed(struct qst_xid_parser *p, const uint8_t *buf,
			   size_t len, struct qst_xid_item *item)
{
	item->type = QST_XID_ITEM_NONE;
	for (size_t i = 0; i < len; i++) {
		p->pending[p->len++] = buf[i];
		settle(p, item);
		if (item->type != QST_XID_ITEM_NONE)
			return i + 1;
	}
	return len;
}
