/*
 * Cedrus XID wire protocol (devices.md §3): commands, the 6-byte key
 * packet and the parser for the pad's byte stream. Pure: no I/O.
 */
#ifndef QST_DRIVERS_XID_PROTOCOL_H
#define QST_DRIVERS_XID_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

/* Commands (devices.md §3.3): ASCII, no terminator. */
#define QST_XID_CMD_PROBE "_c1"       /* → "_xid0" in XID mode */
#define QST_XID_CMD_XID_MODE "c10"    /* switch the pad to XID mode */
#define QST_XID_CMD_RESET_TIMER "e5"  /* zero the reaction-time timer */
#define QST_XID_CMD_QUERY_TIMER "_e5" /* → "_e5" + uint32 LE ms */

#define QST_XID_PACKET_LEN 6
#define QST_XID_PROBE_REPLY_LEN 5

/* Byte 1 of a key packet (devices.md §3.4). */
#define QST_XID_PORT_MASK 0x0f
#define QST_XID_INVALID_PORT_BITS 0x0c /* pyxid rejects these set */
#define QST_XID_PRESS_BIT 0x10
#define QST_XID_KEY_SHIFT 5

struct qst_xid_key {
	int port;       /* 0 = push buttons */
	int key;        /* 1..8; wire key 0 means 8 */
	bool pressed;
	uint32_t rt_ms; /* since the last `e5` */
};

/* QST_ERR_DATA for a packet no pad sends (see protocol.c). */
int qst_xid_decode_key(const uint8_t pkt[QST_XID_PACKET_LEN],
		       struct qst_xid_key *out);
/* QST_ERR_ARG for key outside 1..8 or an invalid port. */
int qst_xid_encode_key(const struct qst_xid_key *k,
		       uint8_t pkt[QST_XID_PACKET_LEN]);

enum qst_xid_item_type {
	QST_XID_ITEM_NONE = 0,
	QST_XID_ITEM_KEY = 1,
	QST_XID_ITEM_PROTOCOL = 2, /* the `_xidN` reply to `_c1` */
};

struct qst_xid_item {
	enum qst_xid_item_type type;
	struct qst_xid_key key;
	int protocol; /* N of `_xidN`: 0 = XID mode */
};

struct qst_xid_parser {
	uint8_t pending[QST_XID_PACKET_LEN];
	size_t len;
	unsigned long packets;
	unsigned long garbage; /* bytes skipped while resynchronising */
};

void qst_xid_parser_init(struct qst_xid_parser *p);

/*
 * Consume bytes until one item is complete; returns the number consumed
 * (item->type NONE if buf ran out first). Callers loop over buf. Resyncs
 * after garbage by sliding one byte at a time to the next plausible 'k'
 * or '_' start (devices.md §3.4: scan forward for the next 'k').
 */
size_t qst_xid_parser_feed(struct qst_xid_parser *p, const uint8_t *buf,
			   size_t len, struct qst_xid_item *item);

#endif
