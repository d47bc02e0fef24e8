/*
 * The Lua side of the adaptive thermal methods (protocols/engine/api.c):
 * qst.levels{}, qst.staircase{} and qst.calibrate{} — defaults, checks
 * and return values — against a mock host that only records.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qst_adaptive.h"
#include "qst_analysis.h"
#include "qst_core.h"
#include "qst_protocol.h"

struct mock {
	struct qst_levels_params levels;
	struct qst_staircase_params stair;
	struct qst_calibrate_params cal;
	int n_levels, n_stair, n_cal;
	double answer;       /* threshold or calibrated level returned */
	int false_alarms;
	char last_log[256];
};

static int m_declare(void *u, const struct qst_protocol_decl *d, char *e,
		     size_t n)
{
	(void)u; (void)d; (void)e; (void)n;
	return QST_OK;
}

static void m_log(void *u, const char *msg)
{
	struct mock *m = u;
	snprintf(m->last_log, sizeof(m->last_log), "%s", msg);
}

static int m_levels(void *u, const struct qst_levels_params *p, double *thr,
		    int *fa, char *e, size_t n)
{
	(void)e; (void)n;
	struct mock *m = u;
	m->levels = *p;
	m->n_levels++;
	*thr = m->answer;
	*fa = m->false_alarms;
	return QST_OK;
}

static int m_staircase(void *u, const struct qst_staircase_params *p,
		       double *thr, int *fa, char *e, size_t n)
{
	(void)e; (void)n;
	struct mock *m = u;
	m->stair = *p;
	m->n_stair++;
	*thr = m->answer;
	*fa = m->false_alarms;
	return QST_OK;
}

static int m_calibrate(void *u, const struct qst_calibrate_params *p,
		       double *result, char *e, size_t n)
{
	(void)e; (void)n;
	struct mock *m = u;
	m->cal = *p;
	m->n_cal++;
	*result = m->answer;
	return QST_OK;
}

static const struct qst_script_host host = {
	.declare = m_declare, .log = m_log, .levels = m_levels,
	.staircase = m_staircase, .calibrate = m_calibrate,
};

static char errbuf[1024];

#define HEADER                                                            \
	"qst.protocol{ name = \"t\", devices = { \"thermal\", "            \
	"\"response\" } }\n"

static int run(struct mock *m, const char *body)
{
	char text[2048];
	snprintf(text, sizeof(text), "%s%s", HEADER, body);
	errbuf[0] = '\0';
	return qst_script_run(text, strlen(text), "t.lua", NULL, &host, m,
			      errbuf, sizeof(errbuf));
}

static void test_levels_defaults(void **state)
{
	(void)state;
	struct mock m = { .answer = 38.625, .false_alarms = 1 };
	assert_int_equal(run(&m, "local t, fa = qst.levels{ test = \"WDT\" }\n"
				 "print(t, fa)\n"), QST_OK);
	assert_int_equal(m.n_levels, 1);
	const struct qst_levels_params *p = &m.levels;
	assert_int_equal(p->yn.test, QST_WDT);
	assert_int_equal(p->yn.direction, 1);
	/* §7.2: first level one initial step (4) above 32, minimum 0.25. */
	assert_true(p->start_c == 36.0);
	assert_true(p->initial_step_c == 4.0);
	assert_true(p->min_step_c == 0.25);
	assert_true(p->yn.cutoff_c == 50.0);
	assert_true(p->yn.catch_p == 0.0);
	assert_string_equal(m.last_log, "38.625\t1");

	/* Cold: below the baseline, cut-off 0. */
	assert_int_equal(run(&m, "qst.levels{ test = \"CDT\", step = 2, "
				 "catch = 0.2, hold = 0 }\n"), QST_OK);
	assert_int_equal(m.levels.yn.direction, -1);
	assert_true(m.levels.start_c == 30.0);
	assert_true(m.levels.yn.catch_p == 0.2);
	assert_true(m.levels.yn.hold_s == 0.0);

	/* No threshold found: nil. */
	m.answer = NAN;
	assert_int_equal(run(&m, "local t = qst.levels{ test = \"HPT\" }\n"
				 "print(t == nil)\n"), QST_OK);
	assert_string_equal(m.last_log, "true");
}

static void test_staircase_and_calibrate(void **state)
{
	(void)state;
	struct mock m = { .answer = 40.5 };
	assert_int_equal(run(&m, "print(qst.staircase{ test = \"HPT\", down = 2, "
				 "start = 40, step = 1, min_step = 0.25, "
				 "reversals = 10, last = 8 })\n"), QST_OK);
	const struct qst_staircase_params *s = &m.stair;
	assert_int_equal(s->n_down, 2);
	assert_true(s->start_c == 40.0 && s->step_c == 1.0);
	assert_true(s->min_step_c == 0.25);
	assert_int_equal(s->reversals, 10);
	assert_int_equal(s->last_k, 8);
	assert_true(s->floor_c == 32.0);
	/* Pain test: the DFNS pain return rate. */
	assert_true(s->yn.return_rate_c_s == 5.0);

	m.answer = 46.5;
	assert_int_equal(run(&m, "print(qst.calibrate{})\n"), QST_OK);
	const struct qst_calibrate_params *c = &m.cal;
	/* §7.3 Pain5 (S21): 45 °C, ±1, NRS 5/10, twice, 90 s apart. */
	assert_true(c->start_c == 45.0 && c->step_c == 1.0);
	assert_true(c->target == 5.0);
	assert_int_equal(c->scale, QST_SCALE_NRS10);
	assert_int_equal(c->repeats, 2);
	assert_true(c->rest_s == 90.0);
	assert_true(c->pulse_s == 0.5);
	assert_true(c->bracket);
	assert_string_equal(m.last_log, "46.5");

	assert_int_equal(run(&m, "qst.calibrate{ scale = \"nrs100\", target = 50, "
				 "tolerance = 5, bracket = false }\n"), QST_OK);
	assert_int_equal(m.cal.scale, QST_SCALE_NRS100);
	assert_true(m.cal.target == 50.0 && m.cal.tolerance == 5.0);
	assert_false(m.cal.bracket);
}

static void test_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *call;
		const char *message;
	} cases[] = {
		{ "qst.levels{}", "qst.levels: test is required" },
		{ "qst.levels{ test = \"MDT\" }", "not a method-of-limits test" },
		{ "qst.levels{ test = \"WDT\", start = 30 }",
		  "start = 30 °C must lie above the baseline" },
		{ "qst.levels{ test = \"WDT\", step = 0.1 }",
		  "min_step must not exceed step" },
		{ "qst.levels{ test = \"WDT\", catch = 0.6 }", "catch = 0.6" },
		{ "qst.levels{ test = \"WDT\", stepp = 1 }", "unknown key 'stepp'" },
		{ "qst.staircase{ test = \"WDT\", down = 4 }", "down = 4" },
		{ "qst.staircase{ test = \"WDT\", reversals = 4, last = 5 }",
		  "last = 5" },
		{ "qst.staircase{ test = \"CDT\", start = 33 }",
		  "must lie below the baseline" },
		{ "qst.calibrate{ target = 11 }", "target = 11" },
		{ "qst.calibrate{ scale = \"vas\" }", "scale = \"vas\"" },
		{ "qst.calibrate{ start = 51 }", "need baseline < floor <= start" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mock m = { 0 };
		assert_int_equal(run(&m, cases[i].call), QST_ERR_SCRIPT);
		if (!strstr(errbuf, cases[i].message))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].call,
				 errbuf, cases[i].message);
		assert_int_equal(m.n_levels + m.n_stair + m.n_cal, 0);
	}
	/* The response device is required for yes/no, not for ratings. */
	const char *no_response = "qst.protocol{ name = \"t\", devices = "
				  "{ \"thermal\" } }\nqst.levels{ test = \"WDT\" }\n";
	struct mock m = { 0 };
	assert_int_equal(qst_script_run(no_response, strlen(no_response), "t.lua",
					NULL, &host, &m, errbuf, sizeof(errbuf)),
			 QST_ERR_SCRIPT);
	assert_non_null(strstr(errbuf, "'response' device"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_defaults),
		cmocka_unit_test(test_staircase_and_calibrate),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
