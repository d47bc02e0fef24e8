/*
 * Mark-10 force gauge wire protocol, "GCL2" (devices.md §4.1): commands,
 * force units, and the parser for the gauge's CR LF-terminated replies.
 * Pure: no file descriptors, no clocks, so the same code serves a real
 * port, a pipe, the simulator and the fuzzers.
 */
#ifndef QST_DRIVERS_MARK10_PROTOCOL_H
#define QST_DRIVERS_MARK10_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

/* Commands end with CR; CR LF is accepted too (devices.md §4.1). */
#define QST_MARK10_TERM "\r"

/* Reading requests (devices.md §4.1, "Read commands"). */
#define QST_MARK10_CMD_CURRENT "?C"   /* real-time reading */
#define QST_MARK10_CMD_DISPLAYED "?"  /* whatever the display shows */
#define QST_MARK10_CMD_PEAK_COMP "?PC"
#define QST_MARK10_CMD_PEAK_TENS "?PT"
/* Identity and settings (devices.md §4.1, "Identity"). */
#define QST_MARK10_CMD_NAME "RN"
#define QST_MARK10_CMD_MODEL "RM"
#define QST_MARK10_CMD_FIRMWARE "RV"
#define QST_MARK10_CMD_SERIAL "RS"
#define QST_MARK10_CMD_LIST "LIST"
/* Zero + clear peaks (devices.md §4.1, "Modes / zero"). */
#define QST_MARK10_CMD_ZERO "Z"
#define QST_MARK10_CMD_CLEAR_PEAKS "CLR"
#define QST_MARK10_CMD_MODE_CURRENT "CUR"

/* Error replies (devices.md §4.1, "Errors"). */
#define QST_MARK10_ERR_ILLEGAL 10      /* *10 illegal command */
#define QST_MARK10_ERR_NOT_APPLICABLE 11
#define QST_MARK10_ERR_SPECIFIER 12
#define QST_MARK10_ERR_TOO_LARGE 22

/* Force units the gauge can display and report. */
enum qst_mark10_unit {
	QST_MARK10_UNIT_UNKNOWN = 0,
	QST_MARK10_UNIT_N,
	QST_MARK10_UNIT_MN,   /* millinewton */
	QST_MARK10_UNIT_KN,
	QST_MARK10_UNIT_LBF,
	QST_MARK10_UNIT_OZF,
	QST_MARK10_UNIT_KGF,
	QST_MARK10_UNIT_GF,
	QST_MARK10_UNIT_COUNT
};

/* Newtons per unit (1 kgf = 9.80665 N, qst-domain.md §2.9); NaN if unknown. */
double qst_mark10_unit_newtons(enum qst_mark10_unit u);
/* The setter command ("N", "LB", …, devices.md §4.1 "Units"), NULL if none. */
const char *qst_mark10_unit_command(enum qst_mark10_unit u);
/* How readings spell the unit ("N", "lbF", "kgF", …). */
const char *qst_mark10_unit_label(enum qst_mark10_unit u);
/* How LIST spells it ("N", "LBF", …). */
const char *qst_mark10_unit_list_label(enum qst_mark10_unit u);
/*
 * A unit as a reading, LIST or a setter spells it, case-insensitively
 * ("lbF", "LBF", "LB", "N", "mN", "kgf" …). QST_MARK10_UNIT_UNKNOWN if it
 * is none of them.
 */
enum qst_mark10_unit qst_mark10_parse_unit(const char *s, size_t len);

/* Longest command plus terminator plus NUL. */
#define QST_MARK10_CMD_MAX 16

/* cmd followed by CR into buf; length, or QST_ERR_ARG if it does not fit. */
int qst_mark10_enc(char *buf, size_t cap, const char *cmd);

/* ------------------------------------------------------------- replies */

/*
 * A reading reply: "<signed value>[ <unit>]" (devices.md §4.1). The unit
 * is a menu option, so it may be missing (unit UNKNOWN then). Returns
 * QST_ERR_DATA for any other line.
 */
struct qst_mark10_reading {
	double value;
	enum qst_mark10_unit unit;
};

int qst_mark10_parse_reading(const char *line, size_t len,
			     struct qst_mark10_reading *out);
/* Format a reading as the gauge does, with CR LF; length or QST_ERR_ARG. */
int qst_mark10_format_reading(double value, int decimals,
			      enum qst_mark10_unit unit, char *buf, size_t cap);

/* "*NN" error reply → NN, or QST_ERR_DATA. */
int qst_mark10_parse_error(const char *line, size_t len, int *code);

/*
 * The unit field of a LIST reply, e.g. "V1.00;LBF;CUR;FLTC8;…;B0"
 * (devices.md §4.1): the second `;`-separated field. QST_ERR_DATA if the
 * line is not shaped like a LIST reply or the unit is unknown.
 */
int qst_mark10_parse_list_unit(const char *line, size_t len,
			       enum qst_mark10_unit *unit);

/* ------------------------------------------------------- stream parser */

enum qst_mark10_item_type {
	QST_MARK10_ITEM_NONE = 0,
	QST_MARK10_ITEM_READING = 1,
	QST_MARK10_ITEM_ERROR = 2,   /* "*NN" */
	QST_MARK10_ITEM_TEXT = 3,    /* any other complete line */
};

#define QST_MARK10_LINE_MAX 96

struct qst_mark10_item {
	enum qst_mark10_item_type type;
	struct qst_mark10_reading reading;
	int error;
	char text[QST_MARK10_LINE_MAX]; /* the line, whatever its type */
};

struct qst_mark10_parser {
	char line[QST_MARK10_LINE_MAX];
	size_t len;
	bool corrupt;          /* a non-printable byte or overflow: drop the line */
	unsigned long readings;
	unsigned long errors;
	unsigned long lines;   /* other text lines */
	unsigned long dropped; /* corrupt lines discarded */
};

void qst_mark10_parser_init(struct qst_mark10_parser *p);

/*
 * Consume bytes until one item is complete. Returns the number consumed;
 * item->type is NONE if buf ran out first. Callers loop over buf. A line
 * ends at CR or LF, so CR LF yields one item and an empty line none;
 * chunks may split or merge lines anywhere; a line holding a
 * non-printable byte, or longer than QST_MARK10_LINE_MAX - 1, is dropped
 * and the parser resynchronises at the next CR or LF.
 */
size_t qst_mark10_parser_feed(struct qst_mark10_parser *p, const uint8_t *buf,
			      size_t len, struct qst_mark10_item *item);

#endif
