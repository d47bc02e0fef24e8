/*
 * Unit tests for the operator console (station/console/): scripted
 * answers from a memory FILE, invalid entries re-asked (counted prompts),
 * repeat and note recorded, skip with and without a reason, the end of
 * the input, and the parsing of every answer kind.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qst_console.h"
#include "qst_core.h"
#include "qst_recorder.h"

struct recorded {
	int n;
	int code[8];
	double value[8];
	double value2[8];
	char message[8][128];
	int64_t clock_ns;
};

static void record_cb(void *user, int code, double value, double value2,
		      const char *message)
{
	struct recorded *r = user;
	if (r->n >= 8)
		return;
	r->code[r->n] = code;
	r->value[r->n] = value;
	r->value2[r->n] = value2;
	snprintf(r->message[r->n], sizeof(r->message[0]), "%s",
		 message ? message : "");
	r->n++;
}

static int64_t clock_cb(void *user)
{
	return ((struct recorded *)user)->clock_ns;
}

/* A console reading `script`, prompting into a memory stream. */
struct fixture {
	struct qst_console con;
	struct recorded rec;
	FILE *in;
	FILE *out;
	char *out_buf;
	size_t out_len;
	char script[512];
};

static void open_fixture(struct fixture *f, const char *script)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->script, sizeof(f->script), "%s", script);
	/* fmemopen refuses a zero-length buffer on some libcs: use "r" on
	 * the text, which may be empty, via its length plus the NUL. */
	size_t len = strlen(f->script);
	f->in = len ? fmemopen(f->script, len, "r") : fopen("/dev/null", "r");
	assert_non_null(f->in);
	f->out = open_memstream(&f->out_buf, &f->out_len);
	assert_non_null(f->out);
	qst_console_init(&f->con, f->in, f->out);
	f->con.record = record_cb;
	f->con.now = clock_cb;
	f->con.user = &f->rec;
	f->rec.clock_ns = 7 * QST_NS_PER_S;
}

static void close_fixture(struct fixture *f)
{
	fclose(f->in);
	fclose(f->out);
	free(f->out_buf);
}

static const char *output(struct fixture *f)
{
	fflush(f->out);
	return f->out_buf ? f->out_buf : "";
}

static int ask(struct fixture *f, int kind, struct qst_answer *a)
{
	struct qst_question q = {
		.test = 6, .kind = kind,
		.text = "apply von Frey 16 mN, felt it?",
		.stimulus = QST_STIM_VONFREY, .stimulus_value = 16.0,
	};
	return qst_console_ask(&f->con, &q, a);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

/* ------------------------------------------------------------ answers */

static void test_yes_no(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "y\nNO\n  yes  \nn\n");
	double want[] = { 1, 0, 1, 0 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ask(&f, QST_ANSWER_YESNO, &a), QST_OK);
		assert_false(a.not_done);
		assert_true(a.value == want[i]);
		assert_true(a.t_ns == 7 * QST_NS_PER_S);
	}
	assert_int_equal(f.con.prompts, 4);
	assert_int_equal(f.con.invalid, 0);
	assert_contains(output(&f), "apply von Frey 16 mN, felt it?");
	assert_contains(output(&f), "[y/n; r = repeat");
	close_fixture(&f);
}

static void test_sharp_blunt(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "y\nsharp\nB\n");
	assert_int_equal(ask(&f, QST_ANSWER_SHARP_BLUNT, &a), QST_OK);
	assert_true(a.value == 1.0);
	assert_int_equal(f.con.prompts, 2); /* "y" is not sharp/blunt */
	assert_int_equal(f.con.invalid, 1);
	assert_int_equal(ask(&f, QST_ANSWER_SHARP_BLUNT, &a), QST_OK);
	assert_true(a.value == 0.0);
	assert_contains(output(&f), "'y' is not an answer: type s (sharp) or b");
	close_fixture(&f);
}

static void test_invalid_reasked(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "maybe\n\n101\n-1\n4.5\n 1e1\n0x10\n42\n");
	assert_int_equal(ask(&f, QST_ANSWER_RATING, &a), QST_OK);
	assert_true(a.value == 42.0);
	assert_int_equal(f.con.prompts, 8);
	assert_int_equal(f.con.invalid, 7);
	const char *out = output(&f);
	assert_contains(out, "'maybe' is not a rating: type a whole number "
			     "from 0 to 100");
	assert_contains(out, "nothing entered");
	assert_contains(out, "'101' is not a rating");
	assert_contains(out, "'4.5' is not a rating");
	assert_int_equal(f.rec.n, 0); /* refusals are not events */
	close_fixture(&f);
}

static void test_rating_bounds(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "0\n100\n007\n");
	assert_int_equal(ask(&f, QST_ANSWER_RATING, &a), QST_OK);
	assert_true(a.value == 0.0); /* 0 is a rating, never "missing" (§7.4) */
	assert_int_equal(ask(&f, QST_ANSWER_RATING, &a), QST_OK);
	assert_true(a.value == 100.0);
	assert_int_equal(ask(&f, QST_ANSWER_RATING, &a), QST_OK);
	assert_true(a.value == 7.0);
	assert_int_equal(f.con.invalid, 0);
	close_fixture(&f);
}

struct parse_case {
	const char *text;
	double value; /* NAN: must be refused */
};

static void test_eighths_parsing(void **state)
{
	(void)state;
	static const struct parse_case cases[] = {
		{ "7.5", 7.5 },    { "7.5/8", 7.5 }, { "7,5", 7.5 },
		{ "8/8", 8.0 },    { "8", 8.0 },     { "0", 0.0 },
		{ "0/8", 0.0 },    { "6.50", 6.5 },  { "3.0", 3.0 },
		{ "8.5", NAN },     { "9", NAN },     { "7.3", NAN },
		{ "7.25", NAN },   { "7.05", NAN },  { "7.5/10", NAN },
		{ "7.5/", NAN },   { "7.", NAN },    { ".5", NAN },
		{ "-1", NAN },     { "abc", NAN },   { "", NAN },
		{ "nan", NAN },    { "inf", NAN },   { "1e0", NAN },
		{ "7 .5", NAN },   { "100", NAN },   { "99999999999", NAN },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double v = -42;
		char why[128] = "";
		int ret = qst_console_parse(QST_ANSWER_EIGHTHS, cases[i].text,
					    &v, why, sizeof(why));
		if (isnan(cases[i].value)) {
			if (ret != QST_ERR_ARG)
				fail_msg("'%s' accepted as %g", cases[i].text, v);
			assert_true(v == -42);
			assert_contains(why, "not a fork reading");
		} else {
			if (ret != QST_OK)
				fail_msg("'%s' refused: %s", cases[i].text, why);
			assert_true(v == cases[i].value);
		}
	}
	/* through the console: refusals re-asked, then 7.5/8 */
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "7.3\n9/8\n7.5/8\n");
	assert_int_equal(ask(&f, QST_ANSWER_EIGHTHS, &a), QST_OK);
	assert_true(a.value == 7.5);
	assert_int_equal(f.con.prompts, 3);
	close_fixture(&f);
}

static void test_parse_other_kinds(void **state)
{
	(void)state;
	double v;
	char why[128];
	assert_int_equal(qst_console_parse(QST_ANSWER_YESNO, "Yes", &v, why,
					   sizeof(why)),
			 QST_OK);
	assert_true(v == 1.0);
	assert_int_equal(qst_console_parse(QST_ANSWER_YESNO, "ye", &v, why,
					   sizeof(why)),
			 QST_ERR_ARG);
	assert_int_equal(qst_console_parse(QST_ANSWER_SHARP_BLUNT, "s", &v,
					   why, sizeof(why)),
			 QST_OK);
	assert_true(v == 1.0);
	assert_int_equal(qst_console_parse(QST_ANSWER_RATING, "1000", &v, why,
					   sizeof(why)),
			 QST_ERR_ARG);
	assert_int_equal(qst_console_parse(99, "1", &v, why, sizeof(why)),
			 QST_ERR_ARG);
	assert_string_equal(qst_answer_kind_name(QST_ANSWER_EIGHTHS),
			    "reading x/8");
}

/* ------------------------------------------------------------ commands */

static void test_repeat_and_note_recorded(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "r\nnote subject moved the hand\nnote\nREPEAT\ny\n");
	assert_int_equal(ask(&f, QST_ANSWER_YESNO, &a), QST_OK);
	assert_true(a.value == 1.0);
	assert_int_equal(f.con.prompts, 5);
	assert_int_equal(f.con.repeats, 2);
	assert_int_equal(f.con.notes, 1);
	assert_int_equal(f.con.invalid, 1); /* "note" without text */
	assert_int_equal(f.rec.n, 3);
	assert_int_equal(f.rec.code[0], QST_EVC_REPEAT);
	assert_true(f.rec.value[0] == 16.0);
	assert_true(f.rec.value2[0] == QST_STIM_VONFREY);
	assert_string_equal(f.rec.message[0], "apply von Frey 16 mN, felt it?");
	assert_int_equal(f.rec.code[1], QST_EVC_OPERATOR_NOTE);
	assert_string_equal(f.rec.message[1], "subject moved the hand");
	assert_int_equal(f.rec.code[2], QST_EVC_REPEAT);
	assert_contains(output(&f), "a note needs a text");
	close_fixture(&f);
}

static void test_skip_needs_reason(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "skip\nskip   \nSKIP subject declined\n");
	assert_int_equal(ask(&f, QST_ANSWER_RATING, &a), QST_OK);
	assert_true(a.not_done);
	assert_string_equal(a.reason, "subject declined");
	assert_true(isnan(a.value));
	assert_true(a.t_ns == 7 * QST_NS_PER_S);
	assert_int_equal(f.con.prompts, 3);
	assert_int_equal(f.con.invalid, 2);
	assert_contains(output(&f), "skipping a test needs a reason");
	close_fixture(&f);
}

/* "skipping" is not the skip command, and "s" stays "sharp". */
static void test_command_words_exact(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "skipping\nnotes\ns\n");
	assert_int_equal(ask(&f, QST_ANSWER_SHARP_BLUNT, &a), QST_OK);
	assert_false(a.not_done);
	assert_true(a.value == 1.0);
	assert_int_equal(f.con.invalid, 2);
	assert_int_equal(f.rec.n, 0);
	close_fixture(&f);
}

/* ----------------------------------------------------------- the input */

static void test_eof_is_an_error(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "");
	assert_int_equal(ask(&f, QST_ANSWER_YESNO, &a), QST_ERR_ABORTED);
	assert_contains(f.con.error, "input ended before an answer to \"apply "
				     "von Frey 16 mN");
	close_fixture(&f);

	/* invalid entries, then the end: still no silent default */
	open_fixture(&f, "maybe\nnote x\n");
	assert_int_equal(ask(&f, QST_ANSWER_YESNO, &a), QST_ERR_ABORTED);
	assert_int_equal(f.con.prompts, 3);
	assert_true(isnan(a.value));
	close_fixture(&f);

	/* a last line without a newline still counts */
	open_fixture(&f, "y");
	assert_int_equal(ask(&f, QST_ANSWER_YESNO, &a), QST_OK);
	assert_true(a.value == 1.0);
	assert_int_equal(ask(&f, QST_ANSWER_YESNO, &a), QST_ERR_ABORTED);
	close_fixture(&f);
}

static void test_long_line_refused(void **state)
{
	(void)state;
	struct fixture f;
	char script[512];
	memset(script, '1', 400);
	snprintf(script + 400, sizeof(script) - 400, "\n55\n");
	open_fixture(&f, script);
	struct qst_answer a;
	assert_int_equal(ask(&f, QST_ANSWER_RATING, &a), QST_OK);
	assert_true(a.value == 55.0);
	assert_int_equal(f.con.invalid, 1);
	assert_contains(output(&f), "entry too long");
	close_fixture(&f);
}

static void test_echo_and_no_output(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "n\n");
	f.con.echo = true;
	assert_int_equal(ask(&f, QST_ANSWER_YESNO, &a), QST_OK);
	assert_contains(output(&f), "> n\n");
	close_fixture(&f);

	/* no prompt stream, no clock, no recorder: still validated */
	open_fixture(&f, "x\nr\n3\n");
	f.con.out = NULL;
	f.con.now = NULL;
	f.con.record = NULL;
	assert_int_equal(ask(&f, QST_ANSWER_EIGHTHS, &a), QST_OK);
	assert_true(a.value == 3.0);
	assert_true(a.t_ns == -1);
	assert_int_equal(f.con.prompts, 3);
	close_fixture(&f);
}

static void test_bad_question(void **state)
{
	(void)state;
	struct fixture f;
	struct qst_answer a;
	open_fixture(&f, "y\n");
	struct qst_question q = { .kind = 7, .text = "x" };
	assert_int_equal(qst_console_ask(&f.con, &q, &a), QST_ERR_ARG);
	q.kind = QST_ANSWER_YESNO;
	q.text = NULL;
	assert_int_equal(qst_console_ask(&f.con, &q, &a), QST_ERR_ARG);
	assert_int_equal(f.con.prompts, 0);
	close_fixture(&f);
}

int main(void)
{
	qst_log_set_level(QST_LOG_NONE);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yes_no),
		cmocka_unit_test(test_sharp_blunt),
		cmocka_unit_test(test_invalid_reasked),
		cmocka_unit_test(test_rating_bounds),
		cmocka_unit_test(test_eighths_parsing),
		cmocka_unit_test(test_parse_other_kinds),
		cmocka_unit_test(test_repeat_and_note_recorded),
		cmocka_unit_test(test_skip_needs_reason),
		cmocka_unit_test(test_command_words_exact),
		cmocka_unit_test(test_eof_is_an_error),
		cmocka_unit_test(test_long_line_refused),
		cmocka_unit_test(test_echo_and_no_output),
		cmocka_unit_test(test_bad_question),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
