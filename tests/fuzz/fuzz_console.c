/*
 * Operator-console answers (station/qst_console.h). The first byte picks
 * the answer kind (4 and up: an unknown kind); the rest is typed text,
 * given both to qst_console_parse as one entry and to qst_console_ask as
 * a stream of lines, commands included. Checks the documented value sets.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "qst_console.h"
#include "qst_protocol.h"

#define KINDS 5

static void check_value(int kind, double v)
{
	switch (kind) {
	case QST_ANSWER_YESNO:
	case QST_ANSWER_SHARP_BLUNT:
		FUZZ_CHECK(v == 0.0 || v == 1.0);
		break;
	case QST_ANSWER_RATING:
		FUZZ_CHECK(v >= 0 && v <= 100 && v == floor(v));
		break;
	case QST_ANSWER_EIGHTHS:
		FUZZ_CHECK(v >= 0 && v <= 8 && 2 * v == floor(2 * v));
		break;
	default:
		FUZZ_CHECK(!"a value for an unknown kind");
	}
}

static void record(void *user, int code, double value, double value2,
		   const char *message)
{
	(void)user;
	(void)code;
	(void)value;
	(void)value2;
	FUZZ_CHECK(message && strlen(message) <= QST_CONSOLE_LINE_MAX);
}

static void parse_entry(int kind, const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char why[QST_CONSOLE_LINE_MAX + 96];
	double v;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	why[0] = '\0';
	if (qst_console_parse(kind, text, &v, why, sizeof(why)) == QST_OK)
		check_value(kind, v);
	else
		FUZZ_CHECK(why[0] != '\0');
	free(text);
}

/* Ask until the input runs out: every answer given must be valid. */
static void ask_all(int kind, const uint8_t *data, size_t size)
{
	const struct qst_question q = { 0, kind, "Touch: sharp or blunt?", 0,
					8.0 };
	struct qst_console c;
	struct qst_answer a;
	FILE *in = size ? fmemopen((void *)data, size, "r") : NULL;

	if (!in)
		return;
	qst_console_init(&c, in, NULL);
	c.record = record;
	for (int asked = 0; asked <= (int)size; asked++) {
		int rc = qst_console_ask(&c, &q, &a);
		if (rc != QST_OK) {
			FUZZ_CHECK(rc == QST_ERR_ABORTED || rc == QST_ERR_ARG);
			FUZZ_CHECK(c.error[0] != '\0');
			break;
		}
		if (a.not_done)
			FUZZ_CHECK(a.reason[0] != '\0');
		else
			check_value(kind, a.value);
	}
	fclose(in);
}

FUZZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int kind = data[0] % KINDS;
	parse_entry(kind, data + 1, size - 1);
	ask_all(kind, data + 1, size - 1);
	return 0;
}
