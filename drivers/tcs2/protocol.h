/*
 * QST.Lab TCS II wire protocol (devices.md §1): command encoding and the
 * parser for the device's byte stream. Pure: no file descriptors, no
 * clocks, so the same code serves a real port, a pipe and the fuzzers.
 */
#ifndef QST_DRIVERS_TCS2_PROTOCOL_H
#define QST_DRIVERS_TCS2_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"
#include "qst_drivers.h"

/* Value ranges printed by the device's own `H` text (devices.md §1.3). */
#define QST_TCS2_NEUTRAL_MIN 200  /* 1/10 °C */
#define QST_TCS2_NEUTRAL_MAX 400
/*
 * `H` prints 100..600 for `C`, but labs send C0000 for the 0 °C cut-off of
 * cold ramps and the device accepts it (devices.md §1.3, T-PL); the DFNS
 * cold cut-off is 0 °C (qst-domain.md §1.4), so targets go down to 000.
 */
#define QST_TCS2_TARGET_MIN 0     /* 1/10 °C */
#define QST_TCS2_TARGET_MAX 600
#define QST_TCS2_OM_MIN 100       /* `Om`: the printed C range */
#define QST_TCS2_SPEED_MIN 1      /* 1/10 °C/s */
#define QST_TCS2_SPEED_MAX 9999
#define QST_TCS2_DURATION_MIN 1   /* ms */
#define QST_TCS2_DURATION_MAX 99999
#define QST_TCS2_ZONES 5

/* Commands without arguments (devices.md §1.3). */
#define QST_TCS2_CMD_IDENTIFY "?"
#define QST_TCS2_CMD_HELP "H"
#define QST_TCS2_CMD_START "L"
#define QST_TCS2_CMD_ABORT "A"
#define QST_TCS2_CMD_TEMPERATURES "E"
#define QST_TCS2_CMD_MUTE "F"
#define QST_TCS2_CMD_STREAM_IDLE "Oa"
#define QST_TCS2_CMD_STREAM_STIM "Ob"
#define QST_TCS2_CMD_PARAMS "P"   /* read-back of N T I Y S, then C V R D per zone */
#define QST_TCS2_CMD_ERRORS "Q"   /* error state, one digit per field */
#define QST_TCS2_CMD_BUTTONS "K"  /* probe button states */
#define QST_TCS2_CMD_TEMP_KEYS "Og" /* `E` and `K` in one reply (later fw) */

/* What `?` answers (devices.md §1.3). */
#define QST_TCS2_IDENTITY "TCS"

/* Longest encoded command plus NUL. */
#define QST_TCS2_CMD_MAX 16

/*
 * Encoders write a NUL-terminated command into buf (cap >= QST_TCS2_CMD_MAX)
 * and return its length, or QST_ERR_ARG for a value outside the documented
 * range. zone: 0 = all zones, 1..5 = one zone.
 */
int qst_tcs2_enc_neutral(char *buf, size_t cap, int tenths_c);
int qst_tcs2_enc_max(char *buf, size_t cap, int tenths_c);
int qst_tcs2_enc_zones(char *buf, size_t cap, unsigned zone_mask);
int qst_tcs2_enc_target(char *buf, size_t cap, int zone, int tenths_c);
int qst_tcs2_enc_rise(char *buf, size_t cap, int zone, int tenths_c_s);
int qst_tcs2_enc_return(char *buf, size_t cap, int zone, int tenths_c_s);
int qst_tcs2_enc_duration(char *buf, size_t cap, int zone, int ms);

/*
 * Waveform upload (devices.md §1.3, T-H): `Uwzzzzznnn` -- zone mask as for
 * `S`, nnn segments 000..999 -- followed by nnn segments `dddttt`: ddd the
 * duration in 10 ms (001..999), ttt the end temperature in 1/10 °C
 * (000..600). `Uezzzzz` enables the waveform per zone; with it on, `L`
 * plays the profile instead of the ramp. Gaps (not documented, chosen
 * here and in the simulator): the first segment starts from the plate's
 * temperature at `L`; after the last one the zone returns to neutral at
 * its `R` speed, as after a ramp; the `Ur` dump format is unknown and not
 * used.
 */
#define QST_TCS2_WAVE_SEG_MAX 999
#define QST_TCS2_WAVE_TICK_MS 10
#define QST_TCS2_WAVE_TICKS_MAX 999
#define QST_TCS2_WAVE_HEADER_LEN 10 /* Uwzzzzznnn */
#define QST_TCS2_WAVE_SEG_LEN 6     /* dddttt */
#define QST_TCS2_WAVE_DISABLE "Ue00000"

struct qst_tcs2_wave_seg {
	int ticks;    /* 10 ms units, 1..999 */
	int tenths_c; /* end temperature, 0..600 */
};

int qst_tcs2_enc_wave_header(char *buf, size_t cap, unsigned zone_mask,
			     int n_segments);
int qst_tcs2_enc_wave_seg(char *buf, size_t cap,
			  const struct qst_tcs2_wave_seg *seg);
int qst_tcs2_enc_wave_enable(char *buf, size_t cap, unsigned zone_mask);
/*
 * Turn segments in °C and seconds into device segments: each duration
 * rounded up to 10 ms (at least one tick), one longer than 9.99 s split
 * into equal pieces along its line (as T-UH does). Returns the number of
 * device segments written to out (at most cap), or QST_ERR_ARG for a
 * temperature outside 0..60 °C, a duration not > 0, or more than cap.
 */
int qst_tcs2_wave_plan(double from_c, const struct qst_wave_segment *seg,
		       size_t n, struct qst_tcs2_wave_seg *out, size_t cap);

/* ------------------------------------------------------ read-back (`P`) */

/*
 * `P` answers CR-separated lines (devices.md §1.3, T-WL/T-WL2): a header
 * `N%d T%d I%d Y%d S%5c` (e.g. "N320 T255 I1 Y0000 S11111"), then one line
 * `C%d V%d R%d D%d` per zone. The exact layout is gap G3, so parsing is by
 * token, not by column: whitespace-separated tokens of one letter and
 * digits, in any order, unknown letters skipped. A header needs `N` and at
 * least one more token (a bare `Nxxx` is the reply to `G`); a zone line
 * needs `C`, `V`, `R` and `D`. Absent fields read -1.
 */
enum qst_tcs2_param_kind {
	QST_TCS2_PARAM_HEADER = 1,
	QST_TCS2_PARAM_ZONE = 2,
};

struct qst_tcs2_params_line {
	enum qst_tcs2_param_kind kind;
	int neutral;        /* header: 1/10 °C */
	int zone_mask;      /* header: bit z = zone z+1, -1 if absent */
	int target;         /* zone: 1/10 °C */
	int rise;           /* zone: 1/10 °C/s */
	int back;           /* zone: 1/10 °C/s */
	int duration;       /* zone: ms */
};

int qst_tcs2_parse_params(const char *line, struct qst_tcs2_params_line *out);
/* The sim's side: the documented variant, as T-WL2 reads it. */
int qst_tcs2_format_params_header(char *buf, size_t cap, int neutral,
				  unsigned zone_mask);
int qst_tcs2_format_params_zone(char *buf, size_t cap, int target, int rise,
				int back, int duration);

/*
 * `Q` answers six digits, "one per zone + neutral", 0 = OK (devices.md
 * §1.3, T-H). Which digit is the neutral is not printed: taken here to be
 * the first, as in the `E` line (§1.4), and marked as a gap. T-H says ">1
 * = error"; any non-zero digit is treated as one, since a 1 that meant OK
 * would contradict "0 = OK". codes[0] = neutral, codes[1..5] = zones.
 */
#define QST_TCS2_ERROR_FIELDS (1 + QST_TCS2_ZONES)
int qst_tcs2_parse_errors(const char *line, int codes[QST_TCS2_ERROR_FIELDS]);

/*
 * `K` answers two characters after the CR: `00` both released, `11`
 * both, `10` button 1 ("stim") only, `01` button 2 ("resp") only
 * (devices.md §1.3, T-H). `Og` sends an `E` line, whitespace, then the
 * same two characters (T-WL2), which the stream parser hands over as a
 * frame and then this line. *state: bit 0 = button 1, bit 1 = button 2.
 */
#define QST_TCS2_BUTTONS 2
int qst_tcs2_parse_buttons(const char *line, unsigned *state);

/* °C (or °C/s) to the device's 1/10 units, QST_ERR_ARG if not finite. */
int qst_tcs2_to_tenths(double value, int *tenths);

/*
 * One temperature line (devices.md §1.4), used by both sides: values in
 * 1/10 °C, [0] = neutral, [1..5] = zones. Format writes the line with its
 * leading CR; returns the length (24) or QST_ERR_ARG if a value needs more
 * than 3 digits.
 */
struct qst_tcs2_frame {
	int tenths[1 + QST_TCS2_ZONES];
};

int qst_tcs2_format_frame(const struct qst_tcs2_frame *f, char *buf,
			  size_t cap);

/* ----------------------------------------------------------- stream parser */

enum qst_tcs2_item_type {
	QST_TCS2_ITEM_NONE = 0,
	QST_TCS2_ITEM_FRAME = 1, /* a temperature line */
	QST_TCS2_ITEM_TEXT = 2,  /* any other complete reply line */
};

#define QST_TCS2_LINE_MAX 96

struct qst_tcs2_item {
	enum qst_tcs2_item_type type;
	struct qst_tcs2_frame frame;
	char text[QST_TCS2_LINE_MAX];
};

struct qst_tcs2_parser {
	char line[QST_TCS2_LINE_MAX];
	size_t len;
	int skipping;      /* frame already emitted or line corrupt: wait for CR/LF */
	int corrupt;       /* current line held a non-printable byte or overflowed */
	int after_frame;   /* skipping only what follows a frame, so far nothing */
	unsigned long frames;
	unsigned long lines;
	unsigned long dropped; /* corrupt lines discarded */
	unsigned long noise_bytes; /* in corrupt lines or trailing a frame */
};

void qst_tcs2_parser_init(struct qst_tcs2_parser *p);

/*
 * Consume bytes until one item is complete. Returns the number of bytes
 * consumed; item->type is QST_TCS2_ITEM_NONE if buf ran out first. Callers
 * loop until all of buf is consumed. Chunks may split or merge lines
 * anywhere.
 */
size_t qst_tcs2_parser_feed(struct qst_tcs2_parser *p, const uint8_t *buf,
			    size_t len, struct qst_tcs2_item *item);

/* Parse a whole line (without delimiters) as a temperature frame. */
int qst_tcs2_parse_frame(const char *line, size_t len,
			 struct qst_tcs2_frame *f);

#endif
