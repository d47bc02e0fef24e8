/*
 * Infinity IN-USB-2 pedal report parser (drivers/hidpedal/protocol.h;
 * devices.md "USB HID foot pedal"). The input is cut into transfers of
 * 1..4 bytes at input-dependent places, so both well-formed 2-byte
 * reports and noise of other lengths reach the parser. Checks: every
 * change names a pedal 1..3, in key order within a report; per pedal,
 * presses and releases alternate starting from released; the state is
 * the last good report's pedal bits; and every byte is counted, either
 * in a report or as noise.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "../../drivers/hidpedal/protocol.h"

FUZZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qst_hidpedal_parser p;
	struct qst_hidpedal_change ch[QST_HIDPEDAL_KEYS];
	bool down[QST_HIDPEDAL_KEYS + 1] = { false };
	uint16_t want_state = 0;
	unsigned long want_reports = 0, want_unknown = 0;
	uint32_t seed = size ? data[0] | 1u : 1;
	size_t pos = 0;

	qst_hidpedal_parser_init(&p);
	while (pos < size) {
		size_t len = fuzz_next_chunk(&seed, 4);
		if (len > size - pos)
			len = size - pos;
		int n = qst_hidpedal_feed(&p, data + pos, len, ch,
					  QST_HIDPEDAL_KEYS);
		FUZZ_CHECK(n >= 0 && n <= QST_HIDPEDAL_KEYS);
		if (len == QST_HIDPEDAL_REPORT_LEN) {
			uint16_t raw = (uint16_t)(data[pos] | data[pos + 1] << 8);
			want_state = raw & QST_HIDPEDAL_KEY_MASK;
			want_reports++;
			if (raw & ~QST_HIDPEDAL_KEY_MASK)
				want_unknown++;
		} else {
			FUZZ_CHECK(n == 0);
		}
		int last_key = 0;
		for (int i = 0; i < n; i++) {
			int k = ch[i].key;
			FUZZ_CHECK(k >= 1 && k <= QST_HIDPEDAL_KEYS);
			FUZZ_CHECK(k > last_key);
			last_key = k;
			/* A press only after a release, and the other way. */
			FUZZ_CHECK(ch[i].pressed != down[k]);
			down[k] = ch[i].pressed;
		}
		pos += len;
	}
	/* The pedals the changes left down are the ones the last report
	 * holds down: no change was lost or invented. */
	for (int k = 1; k <= QST_HIDPEDAL_KEYS; k++)
		FUZZ_CHECK(down[k] == ((want_state >> (k - 1)) & 1));
	FUZZ_CHECK(p.state == want_state);
	FUZZ_CHECK(p.reports == want_reports);
	FUZZ_CHECK(p.unknown == want_unknown);
	FUZZ_CHECK(p.noise + QST_HIDPEDAL_REPORT_LEN * p.reports == size);
	/* Too small an output array is refused, never overrun. */
	FUZZ_CHECK(qst_hidpedal_feed(&p, data, size, ch, QST_HIDPEDAL_KEYS - 1) ==
		   QST_ERR_ARG);
	return 0;
}
