/*
 * qst operator console — the examiner's side of a manual step (issue 4).
 *
 * The console shows what to apply and asks what the subject answered, then
 * returns a validated answer. It reads lines from any FILE*: a terminal, or
 * a pipe or file of scripted answers (tests, automation). Prompts go to
 * another FILE*. Nothing is ever filled in silently: an invalid entry is
 * explained on one line and asked again, and the end of the input is an
 * error, not a default.
 *
 * Accepted entries (case does not matter, surrounding blanks are ignored):
 *   yes/no         y, n, yes, no                       → 1 / 0
 *   sharp/blunt    s, b, sharp, blunt                  → 1 / 0
 *   rating         a whole number 0..100               → the number
 *   eighths        0..8 in steps of 0.5, "7.5", "7,5",
 *                  "7.5/8"                             → the reading
 * Commands at any prompt:
 *   r, repeat      the stimulus is applied again: recorded (QST_EVC_REPEAT)
 *                  and the question asked again
 *   note TEXT      an annotation: recorded (QST_EVC_OPERATOR_NOTE), asked again
 *   skip REASON    the test is not done: answer.not_done, answer.reason;
 *                  the reason is mandatory (asked again without one)
 */
#ifndef QST_STATION_QST_CONSOLE_H
#define QST_STATION_QST_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qst_methods.h"

/* Longest entry accepted on one line (longer ones are refused whole). */
#define QST_CONSOLE_LINE_MAX 256

typedef void (*qst_console_record_fn)(void *user, int code, double value,
				      double value2, const char *message);
typedef int64_t (*qst_console_clock_fn)(void *user);

struct qst_console {
	FILE *in;               /* answers, one per line */
	FILE *out;              /* prompts and explanations; NULL for none */
	/* Repeats and notes go to the session's event table through this:
	 * QST_EVC_REPEAT and QST_EVC_OPERATOR_NOTE with value = the
	 * question's stimulus_value, value2 = its stimulus code, message =
	 * the question text (repeat) or the note. NULL records nothing. */
	qst_console_record_fn record;
	/* The session clock, for answer timestamps; NULL stamps -1. */
	qst_console_clock_fn now;
	void *user;             /* passed to record and now */
	bool echo;              /* copy each entry to out (scripted input) */

	/* counters, for the operator summary and tests */
	int prompts;            /* questions shown, re-asks included */
	int invalid;            /* entries refused */
	int repeats;
	int notes;
	char error[192];        /* why the last qst_console_ask failed */
};

/* Set up a console reading in and prompting on out (may be NULL). */
void qst_console_init(struct qst_console *c, FILE *in, FILE *out);

/*
 * Ask q->text and wait for a valid answer of kind q->kind. Returns QST_OK
 * with *a filled (a->not_done set when the operator skipped the test),
 * QST_ERR_ABORTED when the input ends before an answer, QST_ERR_IO on a
 * read error, QST_ERR_ARG for a bad question. c->error says why.
 */
int qst_console_ask(struct qst_console *c, const struct qst_question *q,
		    struct qst_answer *a);

/*
 * Parse one answer entry of the given kind (no commands). QST_OK with
 * *value set, or QST_ERR_ARG with why (one line) filled.
 */
int qst_console_parse(int kind, const char *text, double *value, char *why,
		      size_t whylen);

/* "yes/no", "sharp/blunt", "rating 0-100", "reading x/8"; "?" if unknown. */
const char *qst_answer_kind_name(int kind);

#endif
