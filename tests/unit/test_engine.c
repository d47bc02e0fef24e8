/*
 * Unit tests for the protocol engine (protocols/engine/): the qst API
 * against a mock host that records every call, parameter validation, host
 * error propagation, and hostile scripts (tests/scripts/) that must be
 * stopped with the right code and a clear message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "qst_analysis.h"
#include "qst_core.h"
#include "qst_protocol.h"

/* Small limits so hostile scripts end quickly. */
#define TEST_INSTRUCTIONS UINT64_C(5000000)
#define TEST_MEMORY ((size_t)4 << 20)

static const struct qst_script_limits test_limits = {
	.memory_bytes = TEST_MEMORY,
	.instructions = TEST_INSTRUCTIONS,
};

/* ------------------------------------------------------------ mock host */

struct mock {
	char calls[8192]; /* one line per callback */
	int n_calls;
	int n_logs;
	char last_log[256];
	/* make the n-th call of a kind fail (1-based; 0 never) */
	int fail_limits_at;
	int fail_section_at;
	int fail_code;
	const char *fail_text;
	int n_limits, n_sections;
	struct qst_protocol_decl decl;
	struct qst_limits_params limits[8];
	struct qst_tsl_params tsl;
	double waited;
	int not_done_test;
	/* issue 4: the mechanical battery */
	int n_manual; /* calls of series/srf/wur/vdt/ppt/ask */
	int n_series;
	struct qst_series_params series[4];
	struct qst_srf_params srf;
	struct qst_wur_params wur;
	struct qst_vdt_params vdt;
	struct qst_ppt_params ppt;
	int ask_kind;
	char ask_text[256];
	double ask_value; /* what the mock operator answers */
};

static void record(struct mock *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void record(struct mock *m, const char *fmt, ...)
{
	size_t used = strlen(m->calls);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->calls + used, sizeof(m->calls) - used, fmt, ap);
	va_end(ap);
	used = strlen(m->calls);
	snprintf(m->calls + used, sizeof(m->calls) - used, "\n");
	m->n_calls++;
}

static int mock_fail(struct mock *m, char *errbuf, size_t errlen)
{
	snprintf(errbuf, errlen, "%s", m->fail_text ? m->fail_text : "");
	return m->fail_code;
}

static int mock_declare(void *user, const struct qst_protocol_decl *decl,
			char *errbuf, size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->decl = *decl;
	record(m, "declare %s|%s|%d", decl->name, decl->version,
	       decl->n_devices);
	return QST_OK;
}

static int mock_section(void *user, const char *title, char *errbuf,
			size_t errlen)
{
	struct mock *m = user;
	record(m, "section %s", title);
	if (++m->n_sections == m->fail_section_at)
		return mock_fail(m, errbuf, errlen);
	return QST_OK;
}

static int mock_instruct(void *user, const char *text, char *errbuf,
			 size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	record(user, "instruct %s", text);
	return QST_OK;
}

static int mock_limits(void *user, const struct qst_limits_params *p,
		       char *errbuf, size_t errlen)
{
	struct mock *m = user;
	record(m, "limits %s", qst_param_name(p->test));
	if (m->n_limits < 8)
		m->limits[m->n_limits] = *p;
	if (++m->n_limits == m->fail_limits_at)
		return mock_fail(m, errbuf, errlen);
	return QST_OK;
}

static int mock_tsl(void *user, const struct qst_tsl_params *p, char *errbuf,
		    size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->tsl = *p;
	record(m, "tsl");
	return QST_OK;
}

static int mock_wait(void *user, double seconds, char *errbuf, size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->waited += seconds;
	record(m, "wait");
	return QST_OK;
}

static int mock_not_done(void *user, int test, const char *reason,
			 char *errbuf, size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->not_done_test = test;
	record(m, "not_done %s %s", qst_param_name(test), reason);
	return QST_OK;
}

static void mock_log(void *user, const char *message)
{
	struct mock *m = user;
	m->n_logs++;
	snprintf(m->last_log, sizeof(m->last_log), "%s", message);
	record(m, "log %s", message);
}

static int mock_series(void *user, const struct qst_series_params *p,
		       char *errbuf, size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	record(m, "series %s", qst_param_name(p->test));
	if (m->n_series < 4)
		m->series[m->n_series] = *p;
	m->n_series++;
	m->n_manual++;
	return QST_OK;
}

static int mock_srf(void *user, const struct qst_srf_params *p, char *errbuf,
		    size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->srf = *p;
	m->n_manual++;
	record(m, "srf");
	return QST_OK;
}

static int mock_wur(void *user, const struct qst_wur_params *p, char *errbuf,
		    size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->wur = *p;
	m->n_manual++;
	record(m, "wur");
	return QST_OK;
}

static int mock_vdt(void *user, const struct qst_vdt_params *p, char *errbuf,
		    size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->vdt = *p;
	m->n_manual++;
	record(m, "vdt");
	return QST_OK;
}

static int mock_ppt(void *user, const struct qst_ppt_params *p, char *errbuf,
		    size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->ppt = *p;
	m->n_manual++;
	record(m, "ppt");
	return QST_OK;
}

static int mock_ask(void *user, const char *text, int kind, double *value,
		    char *errbuf, size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	struct mock *m = user;
	m->ask_kind = kind;
	snprintf(m->ask_text, sizeof(m->ask_text), "%s", text);
	m->n_manual++;
	record(m, "ask %d %s", kind, text);
	*value = m->ask_value;
	return QST_OK;
}

static double mock_now(void *user)
{
	(void)user;
	return 12.5;
}

/* Refuses max_c above 45, as a station at 45 °C would. */
static int mock_safety(void *user, const struct qst_safety_params *p,
		       char *errbuf, size_t errlen)
{
	struct mock *m = user;
	char line[256] = "safety";
	for (int i = 0; i < p->n; i++) {
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s=%g",
			 p->item[i].key, p->item[i].value);
		if (!strcmp(p->item[i].key, "max_c") && p->item[i].value > 45) {
			snprintf(errbuf, errlen, "max_c looser than 45");
			return QST_ERR_LIMIT;
		}
	}
	record(m, "%s", line);
	return QST_OK;
}

static int mock_mark(void *user, const char *label, double value,
		     double value2, char *errbuf, size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	record(user, "mark %s %g %g", label, value, value2);
	return QST_OK;
}

static int mock_condition(void *user, const struct qst_condition_params *p,
			  char *errbuf, size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	record(user, "condition %d %g %s", p->on, p->intensity, p->what);
	return QST_OK;
}

static const struct qst_script_host mock_host = {
	.mark = mock_mark,
	.condition = mock_condition,
	.safety = mock_safety,
	.declare = mock_declare,
	.section = mock_section,
	.instruct = mock_instruct,
	.limits = mock_limits,
	.tsl = mock_tsl,
	.wait = mock_wait,
	.not_done = mock_not_done,
	.log = mock_log,
	.now = mock_now,
	.series = mock_series,
	.srf = mock_srf,
	.wur = mock_wur,
	.vdt = mock_vdt,
	.ppt = mock_ppt,
	.ask = mock_ask,
};

static char errbuf[1024];

static int run(struct mock *m, const char *text)
{
	errbuf[0] = 'X';
	return qst_script_run(text, strlen(text), "test.lua", &test_limits,
			      &mock_host, m, errbuf, sizeof(errbuf));
}

#define HEADER                                                            \
	"qst.protocol{ name = \"t\", devices = { \"thermal\", "            \
	"\"response\" } }\n"

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

/* ----------------------------------------------------- valid protocols */

static const char dfns_thermal[] =
	"qst.protocol{ name = \"DFNS thermal\", version = \"1.0\",\n"
	"  description = \"thermal block\", devices = { \"thermal\", "
	"\"response\" } }\n"
	"qst.section(\"Thermal detection\")\n"
	"qst.instruct(\"Press the button as soon as you feel the temperature "
	"change to cold\")\n"
	"qst.limits{ test = \"CDT\" }\n"
	"qst.limits{ test = \"WDT\" }\n"
	"qst.tsl{}\n"
	"qst.limits{ test = \"CPT\" }\n"
	"qst.limits{ test = \"HPT\" }\n";

static void test_dfns_sequence(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(run(&m, dfns_thermal), QST_OK);
	assert_string_equal(errbuf, "");
	assert_string_equal(
		m.calls,
		"declare DFNS thermal|1.0|2\n"
		"section Thermal detection\n"
		"instruct Press the button as soon as you feel the "
		"temperature change to cold\n"
		"limits CDT\nlimits WDT\ntsl\nlimits CPT\nlimits HPT\n");
	assert_string_equal(m.decl.description, "thermal block");
	assert_string_equal(m.decl.devices[0], "thermal");
	assert_string_equal(m.decl.devices[1], "response");
}

static void assert_limits(const struct qst_limits_params *p, int test,
			  int direction, double return_rate, double cutoff)
{
	assert_int_equal(p->test, test);
	assert_int_equal(p->direction, direction);
	assert_true(p->baseline_c == 32.0);
	assert_true(p->rate_c_s == 1.0);
	assert_true(p->return_rate_c_s == return_rate);
	assert_true(p->cutoff_c == cutoff);
	assert_int_equal(p->repetitions, 3);
	assert_true(p->isi_s == 6.0);
	assert_true(p->isi_jitter_s == 2.0);
}

/* qst-domain.md §1.4, §2.1, §2.3 */
static void test_dfns_defaults(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(run(&m, dfns_thermal), QST_OK);
	assert_int_equal(m.n_limits, 4);
	assert_limits(&m.limits[0], QST_CDT, -1, 1.0, 0.0);
	assert_limits(&m.limits[1], QST_WDT, +1, 1.0, 50.0);
	assert_limits(&m.limits[2], QST_CPT, -1, 5.0, 0.0);
	assert_limits(&m.limits[3], QST_HPT, +1, 5.0, 50.0);
	assert_true(m.tsl.baseline_c == 32.0);
	assert_true(m.tsl.rate_c_s == 1.0);
	assert_true(m.tsl.lower_cutoff_c == 0.0);
	assert_true(m.tsl.upper_cutoff_c == 50.0);
	assert_int_equal(m.tsl.pairs, 3);
	assert_true(m.tsl.return_rate_c_s == 1.0);
	assert_true(m.tsl.isi_s == 6.0);
}

static void test_overrides(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(
		run(&m, HEADER
		    "qst.limits{ test = \"hpt\", baseline = 30, rate = 1.5,\n"
		    "  return_rate = 8, cutoff = 49, repetitions = 5.0,\n"
		    "  isi = 8, isi_jitter = 0 }\n"
		    "qst.tsl{ baseline = 31, rate = 0.5, lower_cutoff = 10,\n"
		    "  upper_cutoff = 45, pairs = 4, return_rate = 2, isi = 3 }\n"),
		QST_OK);
	const struct qst_limits_params *p = &m.limits[0];
	assert_int_equal(p->test, QST_HPT);
	assert_int_equal(p->direction, 1);
	assert_true(p->baseline_c == 30.0);
	assert_true(p->rate_c_s == 1.5);
	assert_true(p->return_rate_c_s == 8.0);
	assert_true(p->cutoff_c == 49.0);
	assert_int_equal(p->repetitions, 5);
	assert_true(p->isi_s == 8.0);
	assert_true(p->isi_jitter_s == 0.0);
	assert_true(m.tsl.baseline_c == 31.0);
	assert_true(m.tsl.rate_c_s == 0.5);
	assert_true(m.tsl.lower_cutoff_c == 10.0);
	assert_true(m.tsl.upper_cutoff_c == 45.0);
	assert_int_equal(m.tsl.pairs, 4);
	assert_true(m.tsl.return_rate_c_s == 2.0);
	assert_true(m.tsl.isi_s == 3.0);
}

static void test_other_calls(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(
		run(&m, "qst.log(\"before\", 1, true)\n" HEADER
			"qst.wait(1.5)\nqst.wait(0)\n"
			"qst.not_done(\"cpt\", \"subject declined\")\n"
			"print(\"t=\" .. qst.now(), qst.version)\n"),
		QST_OK);
	assert_string_equal(m.calls, "log before\t1\ttrue\n"
				     "declare t||2\n"
				     "wait\nwait\n"
				     "not_done CPT subject declined\n"
				     "log t=12.5\t1\n");
	assert_true(m.waited == 1.5);
	assert_int_equal(m.not_done_test, QST_CPT);
}

/* Issue 6: qst.mark and qst.condition reach the host as given; what they
 * cannot record is refused before the host sees it. */
static void test_mark_condition(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(
		run(&m, HEADER "qst.mark(\"cpm:before\")\n"
			"qst.mark(\"oa:offset\", 7.8, 13)\n"
			"qst.mark(\"a\\tb\", 0 / 0, -1)\n"
			"qst.condition{ on = true, intensity = 0.5, what = \"bath\" }\n"
			"qst.condition{ on = true }\n"
			"qst.condition{ on = false, intensity = 1 }\n"),
		QST_OK);
	assert_string_equal(m.calls, "declare t||2\n"
				     "mark cpm:before nan nan\n"
				     "mark oa:offset 7.8 13\n"
				     "mark a\tb nan -1\n"
				     "condition 1 0.5 bath\n"
				     "condition 1 1 conditioning stimulus\n"
				     "condition 0 nan conditioning stimulus\n");
	static const char *const bad[][2] = {
		{ "qst.mark()", "label must be a string" },
		{ "qst.mark(\"\")", "label must not be empty" },
		{ "qst.mark(\"x\", \"1\")", "value 1 must be a number" },
		{ "qst.mark(\"x\", 1, 1 / 0)", "value 2 must be finite" },
		{ "qst.condition{ intensity = 1 }", "on is required" },
		{ "qst.condition{ on = 1 }", "on must be true or false" },
		{ "qst.condition{ on = true, intensity = 1.5 }", "intensity = 1.5" },
		{ "qst.condition{ on = true, where = \"x\" }", "unknown key 'where'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct mock mb = { 0 };
		snprintf(text, sizeof(text), HEADER "%s\n", bad[i][0]);
		assert_int_equal(run(&mb, text), QST_ERR_SCRIPT);
		if (!strstr(errbuf, bad[i][1]))
			fail_msg("%s: '%s' lacks '%s'", bad[i][0], errbuf, bad[i][1]);
		assert_null(strstr(mb.calls, "mark"));
		assert_null(strstr(mb.calls, "condition"));
	}
	/* Before qst.protocol{} nothing is recorded. */
	struct mock mp = { 0 };
	assert_int_equal(run(&mp, "qst.mark(\"x\")\n"), QST_ERR_SCRIPT);
	assert_non_null(strstr(errbuf, "call qst.protocol{...} first"));
}

/* ------------------------------------------------- mechanical battery */

#define HEADER_ALL                                                        \
	"qst.protocol{ name = \"b\", devices = { \"thermal\", "           \
	"\"response\", \"pressure\", \"vibration\" } }\n"

/* qst-domain.md §1.4, §2.4–§2.9 */
static void test_mechanical_defaults(void **state)
{
	(void)state;
	struct mock m = { .ask_value = 1.0 };
	assert_int_equal(run(&m, HEADER_ALL
			     "qst.mdt{}\nqst.mpt()\nqst.mps_dma{}\n"
			     "qst.wur{}\nqst.vdt{}\nqst.ppt{}\n"
			     "print(qst.ask{ text = \"Felt?\", answer = "
			     "\"yesno\" })\n"),
			 QST_OK);
	assert_string_equal(m.calls, "declare b||4\nseries MDT\nseries MPT\n"
				     "srf\nwur\nvdt\nppt\nask 0 Felt?\nlog 1\n");
	for (int i = 0; i < 2; i++) {
		const struct qst_series_params *p = &m.series[i];
		assert_int_equal(p->test, i == 0 ? QST_MDT : QST_MPT);
		assert_int_equal(p->series_pairs, 5);
		assert_true(p->start_mn == 16.0);
		assert_int_equal(p->out_of_range, QST_OOR_NEXT_LEVEL);
		assert_string_equal(p->site_text, "");
	}
	assert_int_equal(m.srf.runs, 5);
	assert_int_equal(m.wur.repetitions, 5);
	assert_true(m.wur.force_mn == 256.0);
	assert_int_equal(m.wur.train_length, 10);
	assert_true(m.wur.train_hz == 1.0);
	assert_int_equal(m.vdt.readings, 3);
	assert_true(m.vdt.sham);
	assert_int_equal(m.ppt.trials, 3);
	assert_true(m.ppt.rate_kpa_s == 50.0);
	assert_true(m.ppt.isi_s == 10.0);
	assert_int_equal(m.ask_kind, QST_ANSWER_YESNO);
	assert_string_equal(m.decl.devices[3], "vibration");
}

static void test_mechanical_overrides(void **state)
{
	(void)state;
	struct mock m = { .ask_value = 7.5 };
	assert_int_equal(
		run(&m, HEADER_ALL
		    "qst.mdt{ start = 0.25, series = 3, out_of_range = "
		    "\"clamp\", site = \"dorsum of hand\" }\n"
		    "qst.mpt{ start = 512, series = 2.0, out_of_range = "
		    "\"next\" }\n"
		    "qst.mps_dma{ runs = 4, site = \"hand\" }\n"
		    "qst.wur{ repetitions = 3, force = 128, train = 5, "
		    "rate = 0.5, site = \"hand\" }\n"
		    "qst.vdt{ readings = 4, sham = false, site = \"ulna\" }\n"
		    "qst.ppt{ trials = 2, rate = 40, isi = 0, site = "
		    "\"thenar\" }\n"
		    "local x = qst.ask{ text = \"Reading?\", answer = "
		    "\"eighths\" }\n"
		    "print(x, math.type(x))\n"),
		QST_OK);
	assert_true(m.series[0].start_mn == 0.25);
	assert_int_equal(m.series[0].series_pairs, 3);
	assert_int_equal(m.series[0].out_of_range, QST_OOR_CLAMP);
	assert_string_equal(m.series[0].site_text, "dorsum of hand");
	assert_true(m.series[1].start_mn == 512.0);
	assert_int_equal(m.series[1].series_pairs, 2);
	assert_int_equal(m.series[1].out_of_range, QST_OOR_NEXT_LEVEL);
	assert_int_equal(m.srf.runs, 4);
	assert_string_equal(m.srf.site_text, "hand");
	assert_int_equal(m.wur.repetitions, 3);
	assert_true(m.wur.force_mn == 128.0);
	assert_int_equal(m.wur.train_length, 5);
	assert_true(m.wur.train_hz == 0.5);
	assert_int_equal(m.vdt.readings, 4);
	assert_false(m.vdt.sham);
	assert_string_equal(m.vdt.site_text, "ulna");
	assert_int_equal(m.ppt.trials, 2);
	assert_true(m.ppt.rate_kpa_s == 40.0);
	assert_true(m.ppt.isi_s == 0.0);
	assert_string_equal(m.ppt.site_text, "thenar");
	assert_int_equal(m.ask_kind, QST_ANSWER_EIGHTHS);
	assert_string_equal(m.last_log, "7.5\tfloat");
}

/* Manual tests need no device; the answer comes back as a number. */
static void test_manual_without_devices(void **state)
{
	(void)state;
	struct mock m = { .ask_value = 42.0 };
	assert_int_equal(
		run(&m, "qst.protocol{ name = \"manual\" }\n"
			"qst.mdt{}\nqst.mps_dma{}\nqst.wur{}\nqst.vdt{}\n"
			"local r = qst.ask{ text = \"Pain?\", answer = "
			"\"rating\" }\n"
			"print(r + 1, math.type(r))\n"
			"qst.ask{ text = \"Sharp?\", answer = \"sharpblunt\" }\n"),
		QST_OK);
	assert_int_equal(m.n_manual, 6);
	assert_string_equal(m.ask_text, "Sharp?");
	assert_int_equal(m.ask_kind, QST_ANSWER_SHARP_BLUNT);
	assert_contains(m.calls, "log 43\tinteger\n");
}

static void test_mechanical_missing_callbacks(void **state)
{
	(void)state;
	static const struct {
		const char *call;
		const char *message;
	} cases[] = {
		{ "qst.mdt{}", "t.lua:2: qst.mdt: not supported by this station" },
		{ "qst.mpt{}", "t.lua:2: qst.mpt: not supported by this station" },
		{ "qst.mps_dma{}", "qst.mps_dma: not supported" },
		{ "qst.wur{}", "qst.wur: not supported" },
		{ "qst.vdt{}", "qst.vdt: not supported" },
		{ "qst.ppt{}", "qst.ppt: not supported" },
		{ "qst.ask{ text = \"x\", answer = \"rating\" }",
		  "qst.ask: not supported" },
	};
	struct qst_script_host host = mock_host;
	host.series = NULL;
	host.srf = NULL;
	host.wur = NULL;
	host.vdt = NULL;
	host.ppt = NULL;
	host.ask = NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "%s%s\n", HEADER_ALL, cases[i].call);
		struct mock m = { 0 };
		int rc = qst_script_run(text, strlen(text), "t.lua", NULL, &host,
					&m, errbuf, sizeof(errbuf));
		assert_int_equal(rc, QST_ERR_UNSUPPORTED);
		assert_contains(errbuf, cases[i].message);
	}
}

/* The sandbox keeps what a protocol may use. */
static void test_sandbox_keeps_basics(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(
		run(&m, HEADER
		    "local t = {}\n"
		    "for i = 1, 10 do t[#t + 1] = string.format('%02d', i) end\n"
		    "table.sort(t, function(a, b) return a > b end)\n"
		    "local k, v = ('key=42'):match('^(%a+)=(%d+)$')\n"
		    "local ok, err = pcall(error, 'inner')\n"
		    "print(table.concat(t, ','), k, math.floor(v / 2),\n"
		    "      utf8.char(176), ok, err, string.rep('', 1 << 62),\n"
		    "      collectgarbage('count') > 0)\n"),
		QST_OK);
	assert_string_equal(m.last_log, "10,09,08,07,06,05,04,03,02,01\tkey\t21"
					"\t\xc2\xb0\tfalse\tinner\t\ttrue");
}

/* Garbage near the cap is collected (Lua's emergency collection and
 * retry), not mistaken for a memory bomb. */
static void test_garbage_near_cap_is_collected(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(
		run(&m, HEADER
		    "for i = 1, 20 do\n"
		    "  local s = string.rep('x', 1500000 + i)\n"
		    "end\n"
		    "print('done')\n"),
		QST_OK);
	assert_string_equal(m.last_log, "done");
}

/* ----------------------------------------------------- parameter errors */

struct bad_case {
	const char *script;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ HEADER "qst.limits{ test = \"CDT\", cutof = 5 }",
	  "test.lua:2: qst.limits: unknown key 'cutof' (allowed: test, " },
	{ HEADER "qst.limits{ test = \"CDT\", rate = \"fast\" }",
	  "test.lua:2: qst.limits: rate must be a number (°C/s), got string" },
	{ HEADER "qst.limits{ test = \"CDT\", repetitions = 0 }",
	  "qst.limits: repetitions = 0 is out of range (allowed: 1 to 20)" },
	{ HEADER "qst.limits{ test = \"CDT\", repetitions = 21 }",
	  "repetitions = 21 is out of range" },
	{ HEADER "qst.limits{ test = \"CDT\", repetitions = 2.5 }",
	  "repetitions must be a whole number, got 2.5" },
	{ HEADER "qst.limits{ test = \"WDT\", rate = 0 }",
	  "qst.limits: rate = 0 °C/s is out of range (allowed: above 0 to "
	  "20 °C/s)" },
	{ HEADER "qst.limits{ test = \"WDT\", isi = 601 }",
	  "isi = 601 s is out of range" },
	{ HEADER "qst.limits{ test = \"WDT\", baseline = 90 }",
	  "baseline = 90 °C is out of range (allowed: from -20 to 80 °C)" },
	{ HEADER "qst.limits{ test = \"CDT\", cutoff = 40 }",
	  "qst.limits: cutoff = 40 °C must be below the baseline 32 °C for "
	  "CDT (a cooling test)" },
	{ HEADER "qst.limits{ test = \"HPT\", cutoff = 20 }",
	  "must be above the baseline 32 °C for HPT (a heating test)" },
	{ HEADER "qst.limits{ rate = 1 }", "qst.limits: test is required" },
	{ HEADER "qst.limits{ test = \"XYZ\" }",
	  "qst.limits: unknown test 'XYZ'" },
	{ HEADER "qst.limits{ test = \"TSL\" }",
	  "test 'TSL' is not a method-of-limits test" },
	{ HEADER "qst.limits(\"CDT\")",
	  "qst.limits expects a table of settings" },
	{ HEADER "qst.limits{ \"CDT\" }", "unexpected number key" },
	{ HEADER "qst.tsl{ pairs = 30 }", "qst.tsl: pairs = 30" },
	{ HEADER "qst.tsl{ lower_cutoff = 33 }",
	  "need lower_cutoff < baseline < upper_cutoff" },
	{ HEADER "qst.tsl{ isi_jitter = 1 }", "unknown key 'isi_jitter'" },
	{ "qst.limits{ test = \"CDT\" }",
	  "test.lua:1: qst.limits: call qst.protocol{...} first" },
	{ "qst.section(\"x\")", "qst.section: call qst.protocol{...} first" },
	{ HEADER "qst.protocol{ name = \"again\" }",
	  "test.lua:2: qst.protocol: called a second time" },
	{ "qst.protocol{ version = \"1\" }", "qst.protocol: name is required" },
	{ "qst.protocol{ name = \"\" }", "qst.protocol: name must not be empty" },
	{ "qst.protocol{ name = \"x\", author = \"SUBJ01\" }",
	  "qst.protocol: unknown key 'author'" },
	{ "qst.protocol{ name = \"x\", devices = { \"thermal\", \"laser\" } }",
	  "unknown device class 'laser' (known: thermal, response, pressure, "
	  "vibration, rating, sync)" },
	/* issue 4: the mechanical battery */
	{ HEADER "qst.mdt{ start = 15 }",
	  "test.lua:2: qst.mdt: start = 15 mN is not a level of the von Frey "
	  "set (0.25, 0.5, 1, ... 512 mN in factor-2 steps)" },
	{ HEADER "qst.mdt{ start = 1024 }",
	  "qst.mdt: start = 1024 mN is out of range (allowed: from 0.25 to "
	  "512 mN)" },
	{ HEADER "qst.mpt{ start = 4 }",
	  "qst.mpt: start = 4 mN is out of range (allowed: from 8 to 512 mN)" },
	{ HEADER "qst.mpt{ start = 24 }",
	  "not a level of the pinprick set (8, 16, 32, ... 512 mN" },
	{ HEADER "qst.mdt{ series = 0 }",
	  "qst.mdt: series = 0 is out of range (allowed: 1 to 20)" },
	{ HEADER "qst.mdt{ out_of_range = \"extrapolate\" }",
	  "qst.mdt: out_of_range = \"extrapolate\" is not allowed (one of: "
	  "clamp, next)" },
	{ HEADER "qst.mdt{ out_of_range = 1 }",
	  "qst.mdt: out_of_range must be a string, got number" },
	{ HEADER "qst.mdt{ starts = 16 }",
	  "qst.mdt: unknown key 'starts' (allowed: start, series, "
	  "out_of_range, site)" },
	{ HEADER "qst.mpt{ site = string.rep('x', 64) }",
	  "qst.mpt: site is too long or holds a NUL byte (at most 63 bytes)" },
	{ HEADER "qst.mps_dma{ runs = 2.5 }",
	  "qst.mps_dma: runs must be a whole number, got 2.5" },
	{ HEADER "qst.mps_dma{ pinpricks = 7 }", "unknown key 'pinpricks'" },
	{ HEADER "qst.wur{ force = 300 }",
	  "qst.wur: force = 300 mN is not a level of the pinprick set" },
	{ HEADER "qst.wur{ rate = 0 }",
	  "qst.wur: rate = 0 Hz is out of range (allowed: above 0 to 5 Hz)" },
	{ HEADER "qst.wur{ train = 51 }", "qst.wur: train = 51 is out of range" },
	{ HEADER "qst.vdt{ sham = 1 }",
	  "qst.vdt: sham must be true or false, got number" },
	{ HEADER "qst.vdt{ readings = 0 }", "qst.vdt: readings = 0" },
	{ HEADER "qst.ppt{}",
	  "qst.ppt: the protocol does not declare the 'pressure' device" },
	{ "qst.protocol{ name = \"x\", devices = { \"pressure\" } }\n"
	  "qst.ppt{ rate = -5 }",
	  "qst.ppt: rate = -5 kPa/s is out of range (allowed: above 0 to 500 "
	  "kPa/s)" },
	{ "qst.protocol{ name = \"x\", devices = { \"pressure\" } }\n"
	  "qst.ppt{ trails = 3 }",
	  "qst.ppt: unknown key 'trails' (allowed: trials, rate, isi, site)" },
	{ HEADER "qst.ask{ answer = \"yesno\" }", "qst.ask: text is required" },
	{ HEADER "qst.ask{ text = \"Felt?\" }",
	  "qst.ask: answer is required (one of: yesno, sharpblunt, rating, "
	  "eighths)" },
	{ HEADER "qst.ask{ text = \"Felt?\", answer = \"YesNo\" }",
	  "qst.ask: answer = \"YesNo\" is not allowed" },
	{ HEADER "qst.ask(\"Felt?\")", "qst.ask expects a table of settings" },
	{ "qst.ask{ text = \"Felt?\", answer = \"yesno\" }",
	  "qst.ask: call qst.protocol{...} first" },
	{ "qst.protocol{ name = \"x\", devices = { \"thermal\", \"thermal\" } }",
	  "device 'thermal' is listed twice" },
	{ "qst.protocol{ name = string.rep(\"n\", 200) }", "name is too long" },
	{ "qst.protocol{ name = \"x\", devices = { \"thermal\" } }\n"
	  "qst.limits{ test = \"CDT\" }",
	  "qst.limits: the protocol does not declare the 'response' device" },
	{ HEADER "qst.wait(-1)", "qst.wait: -1 s is out of range" },
	{ HEADER "qst.wait(3601)", "qst.wait: 3601 s is out of range" },
	{ HEADER "qst.wait(\"5\")", "qst.wait: seconds must be a number" },
	{ HEADER "qst.section(\"\")", "qst.section: the title must not be empty" },
	{ HEADER "qst.not_done(\"CDT\")",
	  "qst.not_done: the reason must be a string, got no value" },
	{ HEADER "qst.not_done(\"ABC\", \"x\")", "unknown test 'ABC'" },
	{ "qst.log('no declaration')",
	  "test.lua: the script never calls qst.protocol{...}" },
	{ HEADER "error({})", "error object is a table value" },
	{ HEADER "local x = nil + 1",
	  "test.lua:2: attempt to perform arithmetic on a nil value" },
};

static void test_parameter_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct mock m = { 0 };
		int rc = run(&m, bad_cases[i].script);
		if (rc != QST_ERR_SCRIPT)
			fail_msg("case %zu: rc %d (%s)", i, rc, errbuf);
		assert_contains(errbuf, bad_cases[i].message);
		/* A refused call never reaches the host. */
		assert_int_equal(m.n_limits, 0);
		assert_int_equal(m.n_manual, 0);
	}
}

/* ------------------------------------------------------- host errors */

static void test_host_error_propagates(void **state)
{
	(void)state;
	struct mock m = { .fail_limits_at = 2,
			  .fail_code = QST_ERR_LIMIT,
			  .fail_text = "cut-off 55.0 °C above the hard limit "
				       "50.0 °C" };
	int rc = run(&m, HEADER "qst.limits{ test = \"WDT\" }\n"
				"qst.limits{ test = \"HPT\", cutoff = 55 }\n"
				"qst.section(\"never\")\n");
	assert_int_equal(rc, QST_ERR_LIMIT);
	assert_string_equal(errbuf, "test.lua:3: qst.limits: cut-off 55.0 °C "
				    "above the hard limit 50.0 °C");
	assert_true(m.limits[1].cutoff_c == 55.0); /* reached the host */
	assert_int_equal(m.n_sections, 0);
}

static void test_host_error_without_text(void **state)
{
	(void)state;
	struct mock m = { .fail_section_at = 1, .fail_code = QST_ERR_DEVICE };
	assert_int_equal(run(&m, HEADER "qst.section(\"s\")"), QST_ERR_DEVICE);
	assert_contains(errbuf, "test.lua:2: qst.section: ");
	assert_contains(errbuf, qst_strerror(QST_ERR_DEVICE));
}

/* A host error the script catches is the script's business. */
static void test_host_error_caught(void **state)
{
	(void)state;
	struct mock m = { .fail_limits_at = 1,
			  .fail_code = QST_ERR_LIMIT,
			  .fail_text = "refused" };
	int rc = run(&m, HEADER
		     "local ok, err = pcall(qst.limits, { test = \"HPT\", "
		     "cutoff = 55 })\n"
		     "print(ok, err)\n"
		     "qst.limits{ test = \"HPT\" }\n");
	assert_int_equal(rc, QST_OK);
	assert_string_equal(m.last_log,
			    "false\ttest.lua:2: qst.limits: refused");
	assert_int_equal(m.n_limits, 2);

	/* re-raised unchanged: still the host's error */
	struct mock m2 = { .fail_limits_at = 1,
			   .fail_code = QST_ERR_LIMIT,
			   .fail_text = "refused" };
	rc = run(&m2, HEADER "local ok, err = pcall(qst.limits, { test = "
			     "\"CDT\" })\nerror(err, 0)\n");
	assert_int_equal(rc, QST_ERR_LIMIT);

	/* caught, then a different failure: that failure is reported */
	struct mock m3 = { .fail_limits_at = 1,
			   .fail_code = QST_ERR_LIMIT,
			   .fail_text = "refused" };
	rc = run(&m3, HEADER "pcall(qst.limits, { test = \"CDT\" })\n"
			     "error(\"own failure\")\n");
	assert_int_equal(rc, QST_ERR_SCRIPT);
	assert_string_equal(errbuf, "test.lua:3: own failure");
}

/* An emergency stop cannot be caught. */
static void test_host_abort_is_final(void **state)
{
	(void)state;
	struct mock m = { .fail_limits_at = 1,
			  .fail_code = QST_ERR_ABORTED,
			  .fail_text = "emergency stop" };
	int rc = run(&m, HEADER
		     "for i = 1, 3 do pcall(qst.limits, { test = \"CDT\" }) "
		     "end\n"
		     "pcall(qst.section, \"after abort\")\n"
		     "while true do end\n");
	assert_int_equal(rc, QST_ERR_ABORTED);
	assert_string_equal(errbuf, "test.lua:2: qst.limits: emergency stop");
	assert_int_equal(m.n_limits, 1);
	assert_int_equal(m.n_sections, 0);
}

static void test_missing_callback(void **state)
{
	(void)state;
	struct qst_script_host host = mock_host;
	host.tsl = NULL;
	host.log = NULL;
	host.now = NULL;
	struct mock m = { 0 };
	const char *text = HEADER "print(qst.now())\nqst.tsl()\n";
	int rc = qst_script_run(text, strlen(text), "t.lua", NULL, &host, &m,
				errbuf, sizeof(errbuf));
	assert_int_equal(rc, QST_ERR_UNSUPPORTED);
	assert_string_equal(errbuf,
			    "t.lua:3: qst.tsl: not supported by this station");
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(qst_script_run(NULL, 0, "x.lua", NULL, &mock_host, &m,
					errbuf, sizeof(errbuf)),
			 QST_ERR_ARG);
	assert_int_equal(qst_script_run("", 0, "x.lua", NULL, NULL, &m, errbuf,
					sizeof(errbuf)),
			 QST_ERR_ARG);
	/* a heap cap too small for the engine itself */
	struct qst_script_limits tiny = { .memory_bytes = 100 };
	int rc = qst_script_run(HEADER, strlen(HEADER), "x.lua", &tiny,
				&mock_host, &m, errbuf, sizeof(errbuf));
	assert_true(rc == QST_ERR_NOMEM || rc == QST_ERR_SCRIPT);
	assert_contains(errbuf, "memory limit of 100 bytes");
	/* NULL errbuf is fine */
	assert_int_equal(qst_script_run(dfns_thermal, strlen(dfns_thermal),
					NULL, NULL, &mock_host, &m, NULL, 0),
			 QST_OK);
}

/* Precompiled chunks are refused even as the script itself. */
static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
	(void)L;
	luaL_Buffer *b = ud;
	luaL_addlstring(b, p, sz);
	return 0;
}

static void test_bytecode_script_refused(void **state)
{
	(void)state;
	lua_State *L = luaL_newstate();
	assert_int_equal(luaL_loadstring(L, HEADER), LUA_OK);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	lua_pushvalue(L, 1);
	assert_int_equal(lua_dump(L, dump_writer, &b, 0), 0);
	lua_pop(L, 1);
	luaL_pushresult(&b);
	size_t len = 0;
	const char *code = lua_tolstring(L, -1, &len);
	struct mock m = { 0 };
	int rc = qst_script_run(code, len, "bin.lua", &test_limits, &mock_host,
				&m, errbuf, sizeof(errbuf));
	lua_close(L);
	assert_int_equal(rc, QST_ERR_SCRIPT);
	assert_contains(errbuf, "bin.lua: attempt to load a binary chunk");
	assert_int_equal(m.n_calls, 0);
}

/* ------------------------------------------------------ hostile scripts */

static int run_file(struct mock *m, const char *name)
{
	const char *dir = getenv("QST_TEST_SCRIPTS");
	if (!dir)
		fail_msg("QST_TEST_SCRIPTS is not set");
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *text = NULL;
	size_t len = 0;
	int rc = qst_read_file(path, &text, &len);
	if (rc != QST_OK)
		fail_msg("cannot read %s: %d", path, rc);
	errbuf[0] = 'X';
	rc = qst_script_run(text, len, name, &test_limits, &mock_host, m,
			    errbuf, sizeof(errbuf));
	free(text);
	return rc;
}

struct hostile_case {
	const char *file;
	int code;
	const char *message;
};

#define BUDGET_STOP                                                       \
	": script stopped: instruction budget of 5000000 exceeded "
#define MEMORY_STOP ": script stopped: memory limit of 4 MiB exceeded"

static const struct hostile_case hostile_cases[] = {
	{ "syntax_error.lua", QST_ERR_SCRIPT,
	  "syntax_error.lua:4: 'then' expected near 'qst'" },
	{ "infinite_loop.lua", QST_ERR_SCRIPT,
	  "infinite_loop.lua" BUDGET_STOP "(infinite loop?) at line 4" },
	{ "pcall_infinite_loop.lua", QST_ERR_SCRIPT,
	  "pcall_infinite_loop.lua" BUDGET_STOP "(infinite loop?) at line 6" },
	{ "memory_bomb.lua", QST_ERR_SCRIPT,
	  "memory_bomb.lua" MEMORY_STOP " at line 7" },
	{ "string_bomb.lua", QST_ERR_SCRIPT,
	  "string_bomb.lua" MEMORY_STOP " at line 4" },
	{ "string_rep_bomb.lua", QST_ERR_SCRIPT,
	  "string_rep_bomb.lua" MEMORY_STOP " at line 3" },
	{ "pcall_memory_bomb.lua", QST_ERR_SCRIPT,
	  "pcall_memory_bomb.lua" MEMORY_STOP " at line 7" },
	{ "deep_recursion.lua", QST_ERR_SCRIPT,
	  "deep_recursion.lua:3: stack overflow: calls nested deeper than" },
	{ "io_access.lua", QST_ERR_SCRIPT,
	  "io_access.lua:3: attempt to index a nil value (global 'io')" },
	{ "os_exit.lua", QST_ERR_SCRIPT,
	  "os_exit.lua:3: attempt to index a nil value (global 'os')" },
	{ "require.lua", QST_ERR_SCRIPT,
	  "require.lua:3: attempt to call a nil value (global 'require')" },
	{ "bytecode.lua", QST_ERR_SCRIPT,
	  "bytecode.lua:4: attempt to call a nil value (field 'dump')" },
	{ "debug_access.lua", QST_ERR_SCRIPT,
	  "debug_access.lua:3: attempt to index a nil value (global 'debug')" },
	{ "dofile.lua", QST_ERR_SCRIPT,
	  "dofile.lua:3: attempt to call a nil value (global 'dofile')" },
	{ "collectgarbage_stop.lua", QST_ERR_SCRIPT,
	  "collectgarbage_stop.lua:3: collectgarbage('stop') is not "
	  "available" },
	{ "pattern_bomb.lua", QST_ERR_SCRIPT,
	  "pattern_bomb.lua" BUDGET_STOP
	  "(string pattern too costly for the subject length?) at line 5" },
	{ "table_move_bomb.lua", QST_ERR_SCRIPT,
	  "table_move_bomb.lua" BUDGET_STOP
	  "(table.move over a huge range?) at line 3" },
	{ "table_insert_bomb.lua", QST_ERR_SCRIPT,
	  "table_insert_bomb.lua" BUDGET_STOP
	  "(table.insert into a huge table?) at line 4" },
	{ "c_work_bomb.lua", QST_ERR_SCRIPT,
	  "c_work_bomb.lua" BUDGET_STOP
	  "(library call on huge data?) at line 6" },
	{ "coroutine_access.lua", QST_ERR_SCRIPT,
	  "coroutine_access.lua:3: attempt to index a nil value (global "
	  "'coroutine')" },
	{ "gc_finalizer.lua", QST_OK, "" },
	{ "close_handler_loop.lua", QST_ERR_SCRIPT,
	  "close_handler_loop.lua" BUDGET_STOP "(infinite loop?) at line 5" },
	{ "error_object_meta.lua", QST_ERR_SCRIPT,
	  "error_object_meta.lua: error object is a table value" },
	{ "long_error.lua", QST_ERR_SCRIPT,
	  "long_error.lua:4: ?[2J?]0;title?very long message" },
	{ "control_chars.lua", QST_ERR_SCRIPT,
	  "control_chars.lua:2: qst.protocol: name holds a control "
	  "character" },
	{ "section_escape.lua", QST_ERR_SCRIPT,
	  "section_escape.lua:3: qst.section: the title holds a control "
	  "character" },
	{ "non_utf8.lua", QST_ERR_SCRIPT,
	  "non_utf8.lua:3: qst.protocol: name holds bytes that are not "
	  "UTF-8" },
	{ "nested_table.lua", QST_ERR_SCRIPT,
	  "nested_table.lua:4: qst.protocol: devices[1] must be a string, "
	  "got table" },
};

/* No byte of a message may drive a terminal: no C0 control, no DEL. */
static void assert_printable(const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if (*u < 0x20 || *u == 0x7f)
			fail_msg("control byte 0x%02x in '%s'", *u, s);
}

/* The script spoils the string metatable; the qst functions read its
 * strings without metamethods, and the script runs to its end. */
static void test_string_metatable(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(run_file(&m, "string_metatable.lua"), QST_OK);
	assert_int_equal(m.n_sections, 1);
	assert_int_equal(m.n_logs, 2);
	assert_string_equal(m.last_log, "false");
}

/* Log lines are free text but reach the operator printable. */
static void test_log_sanitized(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(run_file(&m, "log_escape.lua"), QST_OK);
	assert_int_equal(m.n_logs, 1);
	assert_string_equal(m.last_log, "?]0;title?line?over ?( end\tok");
}

/*
 * NaN, infinities, huge and extreme integers for every numeric setting of
 * every qst function: each is refused with a message naming the setting,
 * and no call reaches the station.
 */
static void test_absurd_numbers(void **state)
{
	(void)state;
	static const char *const calls[] = {
		"qst.limits{ test = 'HPT', baseline = %s }",
		"qst.limits{ test = 'HPT', rate = %s }",
		"qst.limits{ test = 'HPT', return_rate = %s }",
		"qst.limits{ test = 'HPT', cutoff = %s }",
		"qst.limits{ test = 'HPT', repetitions = %s }",
		"qst.limits{ test = 'HPT', isi = %s }",
		"qst.limits{ test = 'HPT', isi_jitter = %s }",
		"qst.tsl{ baseline = %s }", "qst.tsl{ rate = %s }",
		"qst.tsl{ lower_cutoff = %s }", "qst.tsl{ upper_cutoff = %s }",
		"qst.tsl{ pairs = %s }", "qst.tsl{ return_rate = %s }",
		"qst.tsl{ isi = %s }",
		"qst.mdt{ start = %s }", "qst.mdt{ series = %s }",
		"qst.mpt{ start = %s }", "qst.mpt{ series = %s }",
		"qst.mps_dma{ runs = %s }",
		"qst.wur{ repetitions = %s }", "qst.wur{ force = %s }",
		"qst.wur{ train = %s }", "qst.wur{ rate = %s }",
		"qst.vdt{ readings = %s }", "qst.vdt{ sham = %s }",
		"qst.ppt{ trials = %s }", "qst.ppt{ rate = %s }",
		"qst.ppt{ isi = %s }", "qst.wait(%s)",
	};
	static const char *const values[] = {
		"0/0", "1/0", "-1/0", "1e308", "-1e308", "math.maxinteger",
		"math.mininteger", "2^53 + 1", "-2^63",
	};
	char text[512], call[160];
	for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			struct mock m = { 0 };
			snprintf(call, sizeof(call), calls[c], values[v]);
			snprintf(text, sizeof(text), "%s%s\n", HEADER_ALL, call);
			int rc = run(&m, text);
			if (rc != QST_ERR_SCRIPT)
				fail_msg("%s: rc %d (%s)", call, rc, errbuf);
			if (!strstr(errbuf, "out of range") &&
			    !strstr(errbuf, "whole number") &&
			    !strstr(errbuf, "not a level") &&
			    !strstr(errbuf, "must be"))
				fail_msg("%s: unclear message '%s'", call,
					 errbuf);
			assert_printable(errbuf);
			if (m.n_calls != 1) /* the declaration only */
				fail_msg("%s reached the station: %s", call,
					 m.calls);
		}
	}
}

static void test_hostile_scripts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]);
	     i++) {
		const struct hostile_case *c = &hostile_cases[i];
		struct mock m = { 0 };
		int rc = run_file(&m, c->file);
		if (rc != c->code)
			fail_msg("%s: rc %d, want %d (%s)", c->file, rc,
				 c->code, errbuf);
		if (c->message[0])
			assert_contains(errbuf, c->message);
		else
			assert_string_equal(errbuf, "");
		assert_printable(errbuf);
		/* Nothing reaches the station once the script is stopped. */
		assert_int_equal(m.n_logs, 0);
		assert_int_equal(m.n_sections, 0);
	}
}

/* qst.safety{}: numbers only, handed over sorted, refusals surface. */
static void test_safety_call(void **state)
{
	(void)state;
	struct mock m = { 0 };
	assert_int_equal(run(&m, HEADER "qst.safety{ max_c = 44, dose_budget_s = 60, "
				     "min_c = 2 }\n"), QST_OK);
	assert_contains(m.calls, "safety dose_budget_s=60 max_c=44 min_c=2");
	memset(&m, 0, sizeof(m));
	assert_int_equal(run(&m, HEADER "qst.safety{ max_c = 48 }\n"), QST_ERR_LIMIT);
	assert_contains(errbuf, "test.lua:2: qst.safety: max_c looser than 45");
	memset(&m, 0, sizeof(m));
	assert_int_equal(run(&m, HEADER "qst.safety{ max_c = '44' }\n"), QST_ERR_SCRIPT);
	assert_contains(errbuf, "qst.safety: max_c must be a number, got string");
	memset(&m, 0, sizeof(m));
	assert_int_equal(run(&m, HEADER "qst.safety(44)\n"), QST_ERR_SCRIPT);
	assert_contains(errbuf, "qst.safety expects a table of limits");
	memset(&m, 0, sizeof(m));
	assert_int_equal(run(&m, "qst.safety{ max_c = 44 }\n"), QST_ERR_SCRIPT);
	assert_contains(errbuf, "call qst.protocol{...} first");
}

static int data_reader(struct lua_State *L, void *user)
{
	lua_getfield(L, 1, "v");
	*(lua_Integer *)user = lua_tointeger(L, -1);
	return 0;
}

/* A data file sees Lua's syntax and nothing else, under the budgets. */
static void test_data_eval_has_no_library(void **state)
{
	(void)state;
	static const char *const hostile[] = {
		"return { v = print }", "return { v = string.rep('x', 3) }",
		"return { v = require('os') }", "return { v = ('x'):upper() }",
		"return { v = load('return 1')() }", "return { v = io.open }",
	};
	lua_Integer v = 0;
	const char *ok = "local a = 20 return { v = a + 22 }";
	assert_int_equal(qst_data_eval(ok, strlen(ok), "d.lua", &test_limits, data_reader,
				       &v, errbuf, sizeof(errbuf)), QST_OK);
	assert_int_equal(v, 42);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		v = -1;
		int rc = qst_data_eval(hostile[i], strlen(hostile[i]), "d.lua", &test_limits,
				       data_reader, &v, errbuf, sizeof(errbuf));
		/* Either an error, or the name was simply nil (print, io.open). */
		assert_true(rc == QST_ERR_SCRIPT || v == 0);
	}
	const char *spin = "while true do end";
	assert_int_equal(qst_data_eval(spin, strlen(spin), "d.lua", &test_limits, data_reader,
				       &v, errbuf, sizeof(errbuf)), QST_ERR_SCRIPT);
	assert_contains(errbuf, "d.lua: script stopped: instruction budget");
	const char *num = "return 1";
	assert_int_equal(qst_data_eval(num, strlen(num), "d.lua", &test_limits, data_reader,
				       &v, errbuf, sizeof(errbuf)), QST_ERR_SCRIPT);
	assert_contains(errbuf, "must return a table");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dfns_sequence),
		cmocka_unit_test(test_dfns_defaults),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_other_calls),
		cmocka_unit_test(test_mark_condition),
		cmocka_unit_test(test_mechanical_defaults),
		cmocka_unit_test(test_mechanical_overrides),
		cmocka_unit_test(test_manual_without_devices),
		cmocka_unit_test(test_mechanical_missing_callbacks),
		cmocka_unit_test(test_sandbox_keeps_basics),
		cmocka_unit_test(test_garbage_near_cap_is_collected),
		cmocka_unit_test(test_parameter_errors),
		cmocka_unit_test(test_host_error_propagates),
		cmocka_unit_test(test_host_error_without_text),
		cmocka_unit_test(test_host_error_caught),
		cmocka_unit_test(test_host_abort_is_final),
		cmocka_unit_test(test_missing_callback),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_bytecode_script_refused),
		cmocka_unit_test(test_hostile_scripts),
		cmocka_unit_test(test_safety_call),
		cmocka_unit_test(test_data_eval_has_no_library),
		cmocka_unit_test(test_string_metatable),
		cmocka_unit_test(test_log_sanitized),
		cmocka_unit_test(test_absurd_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
