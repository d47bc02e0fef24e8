/*
 * USB HID foot pedal, Infinity IN-USB-2 `05f3:00ff` (devices.md §7): one
 * 2-byte input report per state change, a little-endian uint16 bitmask,
 * 0x0001 left, 0x0002 middle, 0x0004 right, combinations OR-ed. Source:
 * fenimore/scribouillage driver.go, hobby code reading the real pedal
 * (confidence medium). Pure: reports in, key changes out.
 */
#ifndef QST_DRIVERS_HIDPEDAL_PROTOCOL_H
#define QST_DRIVERS_HIDPEDAL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

#define QST_HIDPEDAL_REPORT_LEN 2
#define QST_HIDPEDAL_KEYS 3      /* left = 1, middle = 2, right = 3 */
#define QST_HIDPEDAL_KEY_MASK 0x0007

struct qst_hidpedal_change {
	int key;       /* 1..QST_HIDPEDAL_KEYS */
	bool pressed;  /* false = released */
};

struct qst_hidpedal_parser {
	uint16_t state;          /* pedals down after the last report */
	unsigned long reports;   /* well-formed reports taken */
	unsigned long noise;     /* bytes in reports of the wrong length */
	unsigned long unknown;   /* reports with bits beyond the three pedals */
};

void qst_hidpedal_parser_init(struct qst_hidpedal_parser *p);

/*
 * Take one report (one interrupt-IN transfer). A report that is not 2
 * bytes is noise: counted, the state kept. Otherwise writes the pedals
 * whose state changed to out, in key order (a report may change several),
 * and returns how many (0..QST_HIDPEDAL_KEYS; max must be at least that).
 */
int qst_hidpedal_feed(struct qst_hidpedal_parser *p, const uint8_t *report,
		      size_t len, struct qst_hidpedal_change *out, int max);

#endif
