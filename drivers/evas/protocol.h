/*
 * QST.Lab eVAS rating slider wire protocol (devices.md §1.7): the
 * unsolicited line stream the slider pushes, one item per line. Pure: no
 * I/O, so the same code serves a real port, a pipe, the simulator and
 * the fuzzers.
 *
 * What a line means is only partly known (gap G5): an integer is a
 * rating, `L`, `C` and `R` appear as tokens of unknown meaning, and
 * `999` is a sentinel the one known client logs but never displays.
 */
#ifndef QST_DRIVERS_EVAS_PROTOCOL_H
#define QST_DRIVERS_EVAS_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

/* 0..100 is the guess (devices.md §1.7: "0–100 vs 0–1000 unknown"). */
#define QST_EVAS_DEFAULT_FULL_SCALE 100
/* A full scale above this is a configuration mistake, not a slider. */
#define QST_EVAS_MAX_FULL_SCALE 100000
/* The line the slider sends for an unknown reason (devices.md §1.7). */
#define QST_EVAS_SENTINEL 999
/* Longest line kept, terminator excluded: a rating of six digits with a
 * sign and blanks around it fits; anything longer is noise. */
#define QST_EVAS_LINE_MAX 15
/* Digits a rating may have: 999999 stays far from int32 overflow. */
#define QST_EVAS_DIGITS_MAX 6

enum qst_evas_item_type {
	QST_EVAS_ITEM_NONE = 0,
	QST_EVAS_ITEM_RATING = 1,   /* an integer line: raw set */
	QST_EVAS_ITEM_MARKER = 2,   /* `L`, `C` or `R`: marker set */
	QST_EVAS_ITEM_SENTINEL = 3, /* `999`: raw 999, marker 'S' */
};

struct qst_evas_item {
	enum qst_evas_item_type type;
	int32_t raw;  /* the integer as sent; -1 for a marker */
	char marker;  /* 'L', 'C', 'R', 'S' or 0 */
};

/*
 * One line without its terminator. Blanks (space, tab) around the token
 * are ignored, as the known client strips them; an integer may carry a
 * sign. QST_ERR_DATA for anything else, an empty line included.
 */
int qst_evas_parse_line(const char *line, size_t len,
			struct qst_evas_item *out);

/*
 * raw on a 0..100 scale where full_scale is 100. Values outside
 * 0..full_scale are clamped; the return is true when that happened, so
 * the caller can count it (raw keeps what was sent).
 */
bool qst_evas_scale(int32_t raw, int full_scale, double *value);

/* A rating line as the simulator sends it: raw then eol ("\r\n", "\r"
 * or "\n"). Length, or QST_ERR_ARG if it does not fit. */
int qst_evas_format_rating(int32_t raw, const char *eol, char *buf,
			   size_t cap);

struct qst_evas_parser {
	char line[QST_EVAS_LINE_MAX + 1];
	size_t len;
	bool corrupt;         /* non-printable byte or overflow: drop the line */
	size_t corrupt_bytes; /* bytes of the line being dropped */
	unsigned long ratings;
	unsigned long markers;    /* L, C, R and the sentinel */
	unsigned long dropped;    /* lines discarded */
	unsigned long discarded;  /* bytes of those lines */
};

void qst_evas_parser_init(struct qst_evas_parser *p);

/*
 * Consume bytes until one item is complete. Returns the number consumed;
 * item->type is NONE if buf ran out first. Callers loop over buf. A line
 * ends at CR or LF, so CR LF (or LF CR) yields one item and an empty line
 * none; chunks may split or merge lines anywhere. A line that does not
 * parse, holds a non-printable byte, or is longer than QST_EVAS_LINE_MAX
 * is dropped whole and its bytes are added to discarded; the parser
 * resynchronises at the next CR or LF.
 */
size_t qst_evas_parser_feed(struct qst_evas_parser *p, const uint8_t *buf,
			    size_t len, struct qst_evas_item *item);

#endif
