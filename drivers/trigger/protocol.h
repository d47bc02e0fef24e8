/*
 * TTL trigger boxes (devices.md §6): Brain Products TriggerBox and
 * Neurospec MMBT-S. One byte written is the output pattern, held until
 * the next byte, so a marker is the code followed by 0x00 once the pulse
 * has lasted long enough for the amplifier to see it.
 *
 * The pulse scheduler here is pure (no I/O, no clock of its own): it says
 * which byte is due at a given time and when it must be asked again, and
 * the driver writes the bytes. Codes queue, so none is lost or merged:
 * each goes out only after the previous one was reset and the line
 * stayed low for QST_TRIGGER_LOW_MIN_MS.
 */
#ifndef QST_DRIVERS_TRIGGER_PROTOCOL_H
#define QST_DRIVERS_TRIGGER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

/* The reset level, also what opening writes (BP sample code, §6). */
#define QST_TRIGGER_RESET 0x00
/* Closing byte: TriggerBox 0xFF (BP sample code), MMBT-S 0x00 (§6). */
#define QST_TRIGGERBOX_CLOSE 0xFF
#define QST_MMBTS_CLOSE 0x00

/*
 * Keep the line low between two codes at least this long: two samples of
 * an EEG at 250 Hz are 8 ms ("≥ 2 samples, 5–10 ms typical", devices.md
 * §6), and without a low phase the amplifier sees two equal codes as one.
 */
#define QST_TRIGGER_LOW_MIN_MS 10
/* A pulse longer than this is a level, not a marker. */
#define QST_TRIGGER_PULSE_MAX_MS 10000
/* Codes waiting beyond this are refused: the station sends a few per
 * trial, so a full queue means the line is not being polled. */
#define QST_TRIGGER_QUEUE_MAX 32

struct qst_trigger_pulse {
	uint8_t code;     /* 0 = the reset */
	int32_t pulse_ms; /* 0 for the reset */
};

struct qst_trigger_sched {
	struct qst_trigger_pulse queue[QST_TRIGGER_QUEUE_MAX];
	size_t head;
	size_t n;
	bool high;              /* a code is on the line */
	struct qst_trigger_pulse current;
	int64_t reset_due_ns;   /* while high */
	int64_t next_code_ns;   /* earliest moment for the next code */
	unsigned long codes;    /* codes written */
	unsigned long resets;   /* resets written after a code */
	unsigned long failed;   /* bytes whose write failed */
};

void qst_trigger_sched_init(struct qst_trigger_sched *s);
/* Queue a code. QST_ERR_ARG for code 0 (the reset) or pulse_ms outside
 * 1..QST_TRIGGER_PULSE_MAX_MS; QST_ERR_STATE when the queue is full. */
int qst_trigger_sched_push(struct qst_trigger_sched *s, uint8_t code,
			   int pulse_ms);
/* The byte due at now_ns, if any: a reset while a code is held past its
 * pulse, else the oldest queued code once the line has been low long
 * enough. */
bool qst_trigger_sched_due_byte(const struct qst_trigger_sched *s,
				int64_t now_ns, struct qst_trigger_pulse *out);
/* The byte from qst_trigger_sched_due_byte went out at now_ns. */
void qst_trigger_sched_sent(struct qst_trigger_sched *s, int64_t now_ns);
/* Writing it failed: a code leaves the queue without going high, a reset
 * counts as done (the line's level is unknown either way, and trying
 * again on a link that refused a byte would only repeat the failure). */
void qst_trigger_sched_failed(struct qst_trigger_sched *s, int64_t now_ns);
/* When the scheduler must next be asked; INT64_MAX when idle. */
int64_t qst_trigger_sched_next_due(const struct qst_trigger_sched *s);
/* Codes still waiting (not yet on the line). */
size_t qst_trigger_sched_pending(const struct qst_trigger_sched *s);

/*
 * The TriggerBox's input port: the box sends a byte with the state of its
 * 8 inputs (BP sample ReadThread prints each one, §6). Every byte is a
 * whole state, so there is no framing to lose; the tracker only notes
 * changes.
 */
struct qst_trigger_inputs {
	bool known;
	uint8_t state;
	unsigned long bytes;
	unsigned long changes;
};

void qst_trigger_inputs_init(struct qst_trigger_inputs *in);
/* Take one byte; true if it changed the known state (the first always). */
bool qst_trigger_inputs_take(struct qst_trigger_inputs *in, uint8_t b);

#endif
