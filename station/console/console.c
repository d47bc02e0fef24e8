/*
 * The operator console (station/qst_console.h): one question, one
 * validated answer. Every entry is either accepted exactly as typed, or
 * explained and asked again; the end of the input never becomes an answer.
 */
#define LOG_PREFIX "console: "

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qst_console.h"
#include "qst_recorder.h"

/* qst-domain.md §1.4, §7.4: NRS 0..100 integers; the fork reads 0/8..8/8. */
#define RATING_MAX 100
#define EIGHTHS_MAX 8.0

void qst_console_init(struct qst_console *c, FILE *in, FILE *out)
{
	memset(c, 0, sizeof(*c));
	c->in = in;
	c->out = out;
}

const char *qst_answer_kind_name(int kind)
{
	switch (kind) {
	case QST_ANSWER_YESNO:
		return "yes/no";
	case QST_ANSWER_SHARP_BLUNT:
		return "sharp/blunt";
	case QST_ANSWER_RATING:
		return "rating 0-100";
	case QST_ANSWER_EIGHTHS:
		return "reading x/8";
	default:
		return "?";
	}
}

static const char *kind_hint(int kind)
{
	switch (kind) {
	case QST_ANSWER_YESNO:
		return "y/n";
	case QST_ANSWER_SHARP_BLUNT:
		return "s = sharp, b = blunt";
	case QST_ANSWER_RATING:
		return "0-100";
	default:
		return "0-8 in steps of 0.5, e.g. 7.5";
	}
}

/* ------------------------------------------------------------- parsing */

static int refuse(char *why, size_t whylen, const char *fmt, const char *text)
{
	if (why && whylen)
		snprintf(why, whylen, fmt, text);
	return QST_ERR_ARG;
}

/* The whole word, or its first letter alone ("y", "yes"). */
static bool word_or_initial(const char *text, const char *word)
{
	if (strcasecmp(text, word) == 0)
		return true;
	return text[0] && !text[1] &&
	       tolower((unsigned char)text[0]) == word[0];
}

static int parse_pair(const char *text, const char *one, const char *zero,
		      double *value)
{
	if (word_or_initial(text, one))
		*value = 1.0;
	else if (word_or_initial(text, zero))
		*value = 0.0;
	else
		return QST_ERR_ARG;
	return QST_OK;
}

/* Digits only: no sign, no blanks, no exponent, no "0x". */
static int parse_rating(const char *text, double *value)
{
	size_t n = strlen(text);
	if (n == 0 || n > 3 || strspn(text, "0123456789") != n)
		return QST_ERR_ARG;
	long v = strtol(text, NULL, 10);
	if (v > RATING_MAX)
		return QST_ERR_ARG;
	*value = (double)v;
	return QST_OK;
}

/* "7", "7.5", "7,5", optionally followed by "/8". */
static int parse_eighths(const char *text, double *value)
{
	const char *p = text;
	if (!isdigit((unsigned char)*p))
		return QST_ERR_ARG;
	int whole = 0;
	while (isdigit((unsigned char)*p) && whole < 100)
		whole = whole * 10 + (*p++ - '0');
	double v = whole;
	if (*p == '.' || *p == ',') {
		p++;
		if (*p == '0')
			p++;
		else if (*p == '5') {
			v += 0.5;
			p++;
		} else {
			return QST_ERR_ARG;
		}
		while (*p == '0')
			p++;
	}
	if (strcmp(p, "/8") != 0 && *p)
		return QST_ERR_ARG;
	if (v > EIGHTHS_MAX)
		return QST_ERR_ARG;
	*value = v;
	return QST_OK;
}

int qst_console_parse(int kind, const char *text, double *value, char *why,
		      size_t whylen)
{
	double v = NAN;
	switch (kind) {
	case QST_ANSWER_YESNO:
		if (parse_pair(text, "yes", "no", &v) < 0)
			return refuse(why, whylen,
				      "'%s' is not an answer: type y or n", text);
		break;
	case QST_ANSWER_SHARP_BLUNT:
		if (parse_pair(text, "sharp", "blunt", &v) < 0)
			return refuse(why, whylen,
				      "'%s' is not an answer: type s (sharp) or "
				      "b (blunt)",
				      text);
		break;
	case QST_ANSWER_RATING:
		if (parse_rating(text, &v) < 0)
			return refuse(why, whylen,
				      "'%s' is not a rating: type a whole number "
				      "from 0 to 100",
				      text);
		break;
	case QST_ANSWER_EIGHTHS:
		if (parse_eighths(text, &v) < 0)
			return refuse(why, whylen,
				      "'%s' is not a fork reading: type 0 to 8 in "
				      "steps of 0.5, e.g. 7.5 or 7.5/8",
				      text);
		break;
	default:
		return refuse(why, whylen, "unknown answer kind%s", "");
	}
	*value = v;
	return QST_OK;
}

/* ------------------------------------------------------------ the dialog */

static void say(struct qst_console *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct qst_console *c, const char *fmt, ...)
{
	if (!c->out)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fflush(c->out);
}

static void prompt(struct qst_console *c, const struct qst_question *q)
{
	c->prompts++;
	say(c, "%s\n  [%s; r = repeat, note TEXT, skip REASON] > ", q->text,
	    kind_hint(q->kind));
}

static void keep_record(struct qst_console *c, int code, double value,
			double value2, const char *message)
{
	if (c->record)
		c->record(c->user, code, value, value2, message);
}

static int input_ended(struct qst_console *c, const struct qst_question *q)
{
	if (ferror(c->in)) {
		snprintf(c->error, sizeof(c->error),
			 "cannot read the operator's input: %s",
			 strerror(errno));
		qst_err("%s", c->error);
		return QST_ERR_IO;
	}
	snprintf(c->error, sizeof(c->error),
		 "the operator's input ended before an answer to \"%.100s\"",
		 q->text);
	qst_err("%s", c->error);
	say(c, "\n");
	return QST_ERR_ABORTED;
}

/*
 * Read one line into buf without its newline, blanks trimmed. 1 with a
 * line, 0 when the line was too long (rest consumed), -1 at EOF/error.
 */
static int read_line(FILE *in, char *buf, size_t len, char **text)
{
	if (!fgets(buf, (int)len, in))
		return -1;
	size_t n = strlen(buf);
	bool complete = n > 0 && buf[n - 1] == '\n';
	if (!complete && !feof(in)) {
		int ch;
		while ((ch = fgetc(in)) != EOF && ch != '\n')
			;
		return 0;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	char *p = buf;
	while (isspace((unsigned char)*p))
		p++;
	*text = p;
	return 1;
}

/* "word" or "word REST": REST (maybe "") when text starts with the word. */
static const char *command_arg(const char *text, const char *word)
{
	size_t n = strlen(word);
	if (strncasecmp(text, word, n) != 0)
		return NULL;
	if (text[n] == '\0')
		return text + n;
	if (!isspace((unsigned char)text[n]))
		return NULL;
	const char *arg = text + n;
	while (isspace((unsigned char)*arg))
		arg++;
	return arg;
}

enum step { STEP_ASK_AGAIN, STEP_ANSWERED };

static enum step handle_command(struct qst_console *c,
				const struct qst_question *q, const char *text,
				struct qst_answer *a, bool *is_command)
{
	const char *arg;
	*is_command = true;
	if (strcasecmp(text, "r") == 0 || strcasecmp(text, "repeat") == 0) {
		c->repeats++;
		keep_record(c, QST_EVC_REPEAT, q->stimulus_value, q->stimulus,
			    q->text);
		say(c, "  repeat the stimulus, then answer\n");
		return STEP_ASK_AGAIN;
	}
	if ((arg = command_arg(text, "note"))) {
		if (!arg[0]) {
			c->invalid++;
			say(c, "  a note needs a text: note TEXT\n");
			return STEP_ASK_AGAIN;
		}
		c->notes++;
		keep_record(c, QST_EVC_OPERATOR_NOTE, q->stimulus_value,
			    q->stimulus, arg);
		say(c, "  note recorded\n");
		return STEP_ASK_AGAIN;
	}
	if ((arg = command_arg(text, "skip"))) {
		if (!arg[0]) {
			c->invalid++;
			say(c, "  skipping a test needs a reason: skip REASON\n");
			return STEP_ASK_AGAIN;
		}
		a->not_done = true;
		snprintf(a->reason, sizeof(a->reason), "%s", arg);
		return STEP_ANSWERED;
	}
	*is_command = false;
	return STEP_ASK_AGAIN;
}

static enum step handle_entry(struct qst_console *c,
			      const struct qst_question *q, const char *text,
			      struct qst_answer *a)
{
	bool is_command;
	enum step step = handle_command(c, q, text, a, &is_command);
	if (is_command)
		return step;
	char why[QST_CONSOLE_LINE_MAX + 96];
	if (!text[0]) {
		c->invalid++;
		say(c, "  nothing entered: type %s\n", kind_hint(q->kind));
		return STEP_ASK_AGAIN;
	}
	if (qst_console_parse(q->kind, text, &a->value, why, sizeof(why)) < 0) {
		c->invalid++;
		say(c, "  %s\n", why);
		return STEP_ASK_AGAIN;
	}
	return STEP_ANSWERED;
}

int qst_console_ask(struct qst_console *c, const struct qst_question *q,
		    struct qst_answer *a)
{
	if (!c || !q || !a || !c->in || !q->text ||
	    q->kind < QST_ANSWER_YESNO || q->kind > QST_ANSWER_EIGHTHS) {
		if (c)
			snprintf(c->error, sizeof(c->error),
				 "invalid question (no text or unknown answer "
				 "kind)");
		return QST_ERR_ARG;
	}
	memset(a, 0, sizeof(*a));
	a->value = NAN;
	c->error[0] = '\0';
	char buf[QST_CONSOLE_LINE_MAX + 2];
	for (;;) {
		prompt(c, q);
		char *text = NULL;
		int got = read_line(c->in, buf, sizeof(buf), &text);
		if (got < 0)
			return input_ended(c, q);
		if (got == 0) {
			c->invalid++;
			say(c, "\n  entry too long (at most %d characters)\n",
			    QST_CONSOLE_LINE_MAX);
			continue;
		}
		if (c->echo)
			say(c, "%s\n", text);
		if (handle_entry(c, q, text, a) == STEP_ANSWERED)
			break;
	}
	a->t_ns = c->now ? c->now(c->user) : -1;
	if (a->not_done)
		qst_info("test not done: %s", a->reason);
	else
		qst_dbg("answer %g to \"%s\"", a->value, q->text);
	return QST_OK;
}
