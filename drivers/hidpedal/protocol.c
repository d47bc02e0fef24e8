/*
 * Infinity IN-USB-2 pedal reports (protocol.h; devices.md §7).
 */
#define LOG_PREFIX "hidpedal: "

#include <string.h>

#include "protocol.h"

void qst_hidpedal_parser_init(struct qst_hidpedal_parser *p)
{
	memset(p, 0, sizeof(*p));
}

int qst_hidpedal_feed(struct qst_hidpedal_parser *p, const uint8_t *report,
		      size_t len, struct qst_hidpedal_change *out, int max)
{
	if (!p || (!report && len > 0) || !out || max < QST_HIDPEDAL_KEYS)
		return QST_ERR_ARG;
	/* Every report carries the whole state, so a bad one is simply
	 * skipped: the next good one puts things right. */
	if (len != QST_HIDPEDAL_REPORT_LEN) {
		p->noise += len;
		return 0;
	}
	uint16_t raw = (uint16_t)(report[0] | report[1] << 8);
	if (raw & ~QST_HIDPEDAL_KEY_MASK)
		p->unknown++;
	uint16_t now = raw & QST_HIDPEDAL_KEY_MASK;
	uint16_t changed = now ^ p->state;
	int n = 0;
	for (int k = 0; k < QST_HIDPEDAL_KEYS; k++) {
		uint16_t bit = (uint16_t)(1u << k);
		if (!(changed & bit))
			continue;
		out[n].key = k + 1;
		out[n].pressed = (now & bit) != 0;
		n++;
	}
	p->state = now;
	p->reports++;
	return n;
}
