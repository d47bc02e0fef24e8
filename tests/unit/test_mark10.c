/*
 * Mark-10 force gauge: units, reply parsing under every way of chunking,
 * the driver against a scripted gauge (unit read-back, conversion,
 * timeouts), and the driver against the simulator over a pipe on a
 * virtual time loop (identity, tare, polled rate, the simulated hand).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../drivers/mark10/protocol.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_methods.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS
#define SEC QST_NS_PER_S

/* ------------------------------------------------------ units, encoders */

static void test_units_and_encode(void **state)
{
	(void)state;
	char b[QST_MARK10_CMD_MAX];
	assert_int_equal(qst_mark10_enc(b, sizeof(b), QST_MARK10_CMD_CURRENT), 3);
	assert_string_equal(b, "?C\r");
	assert_int_equal(qst_mark10_enc(b, sizeof(b), "LIST"), 5);
	assert_string_equal(b, "LIST\r");
	assert_int_equal(qst_mark10_enc(b, 3, "LIST"), QST_ERR_ARG);
	assert_int_equal(qst_mark10_enc(b, sizeof(b), ""), QST_ERR_ARG);

	/* qst-domain.md §2.9: 1 kgf = 9.80665 N */
	assert_true(qst_mark10_unit_newtons(QST_MARK10_UNIT_KGF) == 9.80665);
	assert_true(qst_mark10_unit_newtons(QST_MARK10_UNIT_N) == 1.0);
	assert_true(fabs(qst_mark10_unit_newtons(QST_MARK10_UNIT_LBF) -
			 0.45359237 * 9.80665) < 1e-12);
	assert_true(fabs(qst_mark10_unit_newtons(QST_MARK10_UNIT_OZF) * 16 -
			 0.45359237 * 9.80665) < 1e-12);
	assert_true(qst_mark10_unit_newtons(QST_MARK10_UNIT_MN) == 1e-3);
	assert_true(isnan(qst_mark10_unit_newtons(QST_MARK10_UNIT_UNKNOWN)));

	const struct { const char *s; enum qst_mark10_unit u; } names[] = {
		{ "N", QST_MARK10_UNIT_N },     { "n", QST_MARK10_UNIT_N },
		{ "lbF", QST_MARK10_UNIT_LBF }, { "LBF", QST_MARK10_UNIT_LBF },
		{ "LB", QST_MARK10_UNIT_LBF },  { "kgF", QST_MARK10_UNIT_KGF },
		{ "KG", QST_MARK10_UNIT_KGF },  { "ozF", QST_MARK10_UNIT_OZF },
		{ "gF", QST_MARK10_UNIT_GF },   { "mN", QST_MARK10_UNIT_MN },
		{ "kN", QST_MARK10_UNIT_KN },   { "lbs", QST_MARK10_UNIT_UNKNOWN },
		{ "", QST_MARK10_UNIT_UNKNOWN }, { "F", QST_MARK10_UNIT_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(qst_mark10_parse_unit(names[i].s,
						       strlen(names[i].s)),
				 names[i].u);
	assert_string_equal(qst_mark10_unit_command(QST_MARK10_UNIT_N), "N");
	assert_string_equal(qst_mark10_unit_command(QST_MARK10_UNIT_LBF), "LB");
	assert_null(qst_mark10_unit_command(QST_MARK10_UNIT_UNKNOWN));
}

static void expect_reading(const char *line, double v, enum qst_mark10_unit u)
{
	struct qst_mark10_reading r;
	if (qst_mark10_parse_reading(line, strlen(line), &r) != QST_OK)
		fail_msg("\"%s\" not parsed as a reading", line);
	assert_true(r.value == v);
	assert_int_equal(r.unit, u);
}

static void test_parse_replies(void **state)
{
	(void)state;
	/* devices.md §4.1 examples */
	expect_reading("-18.78 lbF", -18.78, QST_MARK10_UNIT_LBF);
	expect_reading("4.285 N", 4.285, QST_MARK10_UNIT_N);
	expect_reading("  12.5", 12.5, QST_MARK10_UNIT_UNKNOWN);
	expect_reading("+3.00 kgF ", 3.0, QST_MARK10_UNIT_KGF);
	expect_reading(".5 N", 0.5, QST_MARK10_UNIT_N);
	expect_reading("250 mN", 250, QST_MARK10_UNIT_MN);
	const char *bad[] = { "", "-", "abc", "1.2.3 N", "nan N", "inf",
			      "1e3 N", "12 furlongs", "N", "*10", "4.285 N x",
			      "M5-100", "V1.00;LBF;CUR" };
	struct qst_mark10_reading r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qst_mark10_parse_reading(bad[i], strlen(bad[i]), &r) !=
		    QST_ERR_DATA)
			fail_msg("\"%s\" taken for a reading", bad[i]);

	int code;
	assert_int_equal(qst_mark10_parse_error("*10", 3, &code), QST_OK);
	assert_int_equal(code, 10);
	assert_int_equal(qst_mark10_parse_error("*22", 3, &code), QST_OK);
	assert_int_equal(code, 22);
	assert_int_equal(qst_mark10_parse_error("*1x", 3, &code), QST_ERR_DATA);
	assert_int_equal(qst_mark10_parse_error("10", 2, &code), QST_ERR_DATA);
	assert_int_equal(qst_mark10_parse_error("*", 1, &code), QST_ERR_DATA);

	enum qst_mark10_unit u;
	const char *list = "V1.00;LBF;CUR;FLTC8;FLTP1;AOUT00;AOFF5;FULL;MIT;POL;B0";
	assert_int_equal(qst_mark10_parse_list_unit(list, strlen(list), &u), QST_OK);
	assert_int_equal(u, QST_MARK10_UNIT_LBF);
	const char *list_n = "V1.00;N;CUR;B3";
	assert_int_equal(qst_mark10_parse_list_unit(list_n, strlen(list_n), &u),
			 QST_OK);
	assert_int_equal(u, QST_MARK10_UNIT_N);
	const char *bad_lists[] = { "V1.00", "V1.00;LBF", "V1.00;XYZ;CUR", "4.2 N" };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(qst_mark10_parse_list_unit(bad_lists[i],
							    strlen(bad_lists[i]),
							    &u),
				 QST_ERR_DATA);

	char buf[32];
	assert_int_equal(qst_mark10_format_reading(4.2849, 3, QST_MARK10_UNIT_N,
						   buf, sizeof(buf)), 9);
	assert_string_equal(buf, "4.285 N\r\n");
	assert_true(qst_mark10_format_reading(-18.78, 2, QST_MARK10_UNIT_LBF, buf,
					      sizeof(buf)) > 0);
	assert_string_equal(buf, "-18.78 lbF\r\n");
	assert_int_equal(qst_mark10_format_reading(NAN, 1, QST_MARK10_UNIT_N,
						   buf, sizeof(buf)), QST_ERR_ARG);
	assert_int_equal(qst_mark10_format_reading(1, 1, QST_MARK10_UNIT_UNKNOWN,
						   buf, sizeof(buf)), QST_ERR_ARG);
}

/* --------------------------------------------------------------- parser */

struct want {
	enum qst_mark10_item_type type;
	const char *text;
	double value;
	enum qst_mark10_unit unit;
};

static const char transcript[] =
	"M5-100\r\n"
	"1.00\r\n"
	"SIM 01\r\n"
	"*10\r\n"
	"4.285 N\r\n"
	"-18.78 lbF\r\n"
	"\r\n"
	"12.5\r"
	"V1.00;LBF;CUR;FLTC8\r\n"
	"0.0 N\n"
	"*22\r\n";

static const struct want transcript_items[] = {
	{ QST_MARK10_ITEM_TEXT, "M5-100", 0, 0 },
	{ QST_MARK10_ITEM_READING, "1.00", 1.0, QST_MARK10_UNIT_UNKNOWN },
	{ QST_MARK10_ITEM_TEXT, "SIM 01", 0, 0 },
	{ QST_MARK10_ITEM_ERROR, "*10", 10, 0 },
	{ QST_MARK10_ITEM_READING, "4.285 N", 4.285, QST_MARK10_UNIT_N },
	{ QST_MARK10_ITEM_READING, "-18.78 lbF", -18.78, QST_MARK10_UNIT_LBF },
	{ QST_MARK10_ITEM_READING, "12.5", 12.5, QST_MARK10_UNIT_UNKNOWN },
	{ QST_MARK10_ITEM_TEXT, "V1.00;LBF;CUR;FLTC8", 0, 0 },
	{ QST_MARK10_ITEM_READING, "0.0 N", 0.0, QST_MARK10_UNIT_N },
	{ QST_MARK10_ITEM_ERROR, "*22", 22, 0 },
};
#define N_ITEMS (sizeof(transcript_items) / sizeof(transcript_items[0]))

struct got {
	struct qst_mark10_item items[64];
	size_t n;
};

static void feed_chunk(struct qst_mark10_parser *p, struct got *g,
		       const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		struct qst_mark10_item it;
		size_t n = qst_mark10_parser_feed(p, buf + off, len - off, &it);
		assert_true(n > 0 && n <= len - off);
		off += n;
		if (it.type != QST_MARK10_ITEM_NONE) {
			assert_true(g->n < 64);
			g->items[g->n++] = it;
		}
	}
}

static void check_items(const struct got *g, const struct want *w, size_t nw)
{
	assert_int_equal(g->n, nw);
	for (size_t i = 0; i < nw; i++) {
		const struct qst_mark10_item *it = &g->items[i];
		assert_int_equal(it->type, w[i].type);
		assert_string_equal(it->text, w[i].text);
		if (w[i].type == QST_MARK10_ITEM_READING) {
			assert_true(it->reading.value == w[i].value);
			assert_int_equal(it->reading.unit, w[i].unit);
		} else if (w[i].type == QST_MARK10_ITEM_ERROR) {
			assert_int_equal(it->error, (int)w[i].value);
		}
	}
}

static void parse_with_cuts(const uint8_t *msg, size_t len, const size_t *cuts,
			    size_t n_cuts, struct got *g)
{
	struct qst_mark10_parser p;
	qst_mark10_parser_init(&p);
	memset(g, 0, sizeof(*g));
	size_t from = 0;
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t to = i < n_cuts ? cuts[i] : len;
		feed_chunk(&p, g, msg + from, to - from);
		from = to;
	}
}

static void test_parser_every_split(void **state)
{
	(void)state;
	const uint8_t *msg = (const uint8_t *)transcript;
	size_t len = sizeof(transcript) - 1;
	struct got g;
	parse_with_cuts(msg, len, NULL, 0, &g);
	check_items(&g, transcript_items, N_ITEMS);
	/* every pair of cut points */
	for (size_t a = 1; a < len; a++) {
		for (size_t b = a; b < len; b++) {
			size_t cuts[2] = { a, b };
			parse_with_cuts(msg, len, cuts, 2, &g);
			check_items(&g, transcript_items, N_ITEMS);
		}
	}
	/* byte by byte */
	struct qst_mark10_parser p;
	qst_mark10_parser_init(&p);
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < len; i++)
		feed_chunk(&p, &g, msg + i, 1);
	check_items(&g, transcript_items, N_ITEMS);
	assert_int_equal(p.readings, 5);
	assert_int_equal(p.errors, 2);
	assert_int_equal(p.lines, 3);
	assert_int_equal(p.dropped, 0);
	/* merged: three transcripts in one chunk */
	uint8_t thrice[3 * sizeof(transcript)];
	for (int i = 0; i < 3; i++)
		memcpy(thrice + (size_t)i * len, msg, len);
	parse_with_cuts(thrice, 3 * len, NULL, 0, &g);
	assert_int_equal(g.n, 3 * N_ITEMS);
}

/* Binary bytes drop their line only; an over-long line is dropped; the
 * parser is back in step at the next CR or LF every time. */
static void test_parser_garbage(void **state)
{
	(void)state;
	uint8_t buf[512];
	size_t pos = 0;
#define ADD(s, n) do { memcpy(buf + pos, s, n); pos += n; } while (0)
	ADD("\x01\xff junk\r\n", 9);
	ADD("4.0 N\r\n", 7);
	ADD("12.\x00" "5 N\r\n", 9);
	memset(buf + pos, '7', 150);
	pos += 150;
	ADD("\r\n*11\r\n", 7);
	ADD("\x80\r7.5 N\r\n", 9);
	ADD("junk 5 N\r\n", 10);
#undef ADD
	const struct want w[] = {
		{ QST_MARK10_ITEM_READING, "4.0 N", 4.0, QST_MARK10_UNIT_N },
		{ QST_MARK10_ITEM_ERROR, "*11", 11, 0 },
		{ QST_MARK10_ITEM_READING, "7.5 N", 7.5, QST_MARK10_UNIT_N },
		{ QST_MARK10_ITEM_TEXT, "junk 5 N", 0, 0 },
	};
	size_t nw = sizeof(w) / sizeof(w[0]);
	struct got g;
	struct qst_mark10_parser p;
	qst_mark10_parser_init(&p);
	memset(&g, 0, sizeof(g));
	feed_chunk(&p, &g, buf, pos);
	check_items(&g, w, nw);
	assert_int_equal(p.dropped, 4);
	for (size_t c = 1; c < pos; c++) {
		parse_with_cuts(buf, pos, &c, 1, &g);
		check_items(&g, w, nw);
	}
	qst_mark10_parser_init(&p);
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < pos; i++)
		feed_chunk(&p, &g, buf + i, 1);
	check_items(&g, w, nw);
}

/* --------------------------------------------------------- event sink */

#define MAX_EVENTS 20000

struct rig {
	struct qst_transport *transport;
	int far_fd;
	struct qst_mark10_sim *sim; /* NULL: the test plays the gauge */
	struct qst_dev dev;
	struct qst_event *ev;
	size_t n_ev;
	int64_t now;
	int64_t poll_due;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	assert_int_equal(ev->device, 2);
	if (r->n_ev < MAX_EVENTS)
		r->ev[r->n_ev++] = *ev;
}

static const struct qst_pressure_ops *pressure(struct rig *r)
{
	return qst_dev_pressure(&r->dev);
}

static void rig_receive(struct rig *r, int64_t t)
{
	uint8_t buf[512];
	for (;;) {
		ssize_t n = qst_transport_read(r->transport, buf, sizeof(buf), NULL);
		assert_true(n >= 0);
		if (n == 0)
			break;
		r->dev.driver->receive(&r->dev, buf, (size_t)n, t);
	}
}

/* As the station does: poll when due, step the gauge, read what it said. */
static void rig_pump(struct rig *r, int64_t t)
{
	if (t >= r->poll_due)
		r->poll_due = r->dev.driver->poll(&r->dev, t);
	if (r->sim)
		qst_mark10_sim_step(r->sim, t);
	rig_receive(r, t);
	r->now = t;
}

static void rig_run_until(struct rig *r, int64_t end)
{
	while (r->now < end) {
		int64_t t = r->sim ? qst_mark10_sim_next_due(r->sim) : QST_SIM_NEVER;
		if (r->poll_due < t)
			t = r->poll_due;
		if (t <= r->now)
			t = r->now + 1000;
		if (t > end)
			t = end;
		rig_pump(r, t);
	}
}

static struct rig *rig_new(bool with_sim)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->ev = calloc(MAX_EVENTS, sizeof(*r->ev));
	assert_non_null(r->ev);
	assert_int_equal(qst_transport_pipe_open("mark10-test", &r->transport,
						 &r->far_fd), QST_OK);
	if (with_sim) {
		struct qst_mark10_sim_config cfg = { .capacity_n = 500.0,
						     .noise_n = 0.05, .seed = 7 };
		snprintf(cfg.serial, sizeof(cfg.serial), "SIM-M10-0042");
		assert_int_equal(qst_mark10_sim_new(r->far_fd, &cfg, 0, &r->sim),
				 QST_OK);
	}
	r->dev.driver = qst_driver_find("mark10");
	assert_non_null(r->dev.driver);
	assert_int_equal(r->dev.driver->dev_class, QST_DEV_PRESSURE);
	assert_non_null(r->dev.driver->poll);
	r->dev.transport = r->transport;
	r->dev.index = 2;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	r->poll_due = QST_SIM_NEVER;
	return r;
}

static int rig_setup_sim(void **state)
{
	*state = rig_new(true);
	return 0;
}

static int rig_setup_script(void **state)
{
	*state = rig_new(false);
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	r->dev.driver->close(&r->dev);
	qst_transport_close(r->transport);
	if (r->sim)
		qst_mark10_sim_free(r->sim);
	else
		close(r->far_fd);
	free(r->ev);
	free(r);
	return 0;
}

/* --------------------------------------------------- scripted gauge */

/* What the driver sent since the last call, as text. */
static void far_read(struct rig *r, char *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t k = recv(r->far_fd, out + n, cap - 1 - n, MSG_DONTWAIT);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	out[n] = '\0';
}

static void far_say(struct rig *r, const char *text, int64_t t)
{
	assert_int_equal(send(r->far_fd, text, strlen(text), 0),
			 (ssize_t)strlen(text));
	rig_receive(r, t);
}

static void expect_sent(struct rig *r, const char *want)
{
	char got[256];
	far_read(r, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("driver sent \"%s\", expected \"%s\"", got, want);
}

static size_t count_pressure(const struct rig *r, size_t from)
{
	size_t n = 0;
	for (size_t i = from; i < r->n_ev; i++)
		n += r->ev[i].type == QST_EV_PRESSURE;
	return n;
}

static const struct qst_event *last_of(const struct rig *r,
				       enum qst_event_type type)
{
	for (size_t i = r->n_ev; i > 0; i--)
		if (r->ev[i - 1].type == type)
			return &r->ev[i - 1];
	return NULL;
}

/* A gauge that refuses `N` and stays in lbF: identity one question at a
 * time, the unit from LIST, readings converted with or without a unit. */
static void test_script_identity_units_conversion(void **state)
{
	struct rig *r = *state;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	expect_sent(r, "RM\r");
	far_say(r, "M4-50\r\n", 0);
	expect_sent(r, "RV\r");
	far_say(r, "*10\r\n", 0); /* an old firmware without RV */
	expect_sent(r, "RS\r");
	assert_false(r->dev.driver->ready(&r->dev));
	far_say(r, "3456789\r\n", 0);
	expect_sent(r, "N\rLIST\r");
	far_say(r, "*10\r\nV1.00;LBF;CUR;FLTC8;FLTP1;AOUT00;AOFF5;FULL;MIT;POL;B0\r\n",
		0);
	assert_true(r->dev.driver->ready(&r->dev));
	assert_string_equal(r->dev.info.model, "M4-50");
	assert_string_equal(r->dev.info.firmware, "");
	assert_string_equal(r->dev.info.serial, "3456789");

	assert_int_equal(pressure(r)->set_rate(&r->dev, 10.0), QST_OK);
	r->poll_due = 0;
	rig_pump(r, 0);
	expect_sent(r, "?C\r");
	far_say(r, "10.00 lbF\r\n", 1 * MS);
	const struct qst_event *e = last_of(r, QST_EV_PRESSURE);
	assert_non_null(e);
	assert_int_equal(e->t_ns, 1 * MS);
	assert_true(fabs(e->u.pressure.force_n - 44.482216152605) < 1e-9);
	assert_true(fabs(e->u.pressure.kpa - 444.82216152605) < 1e-8);

	/* no unit on the line: LIST's lbF */
	rig_pump(r, 100 * MS);
	expect_sent(r, "?C\r");
	far_say(r, "2.000\r\n", 101 * MS);
	e = last_of(r, QST_EV_PRESSURE);
	assert_true(fabs(e->u.pressure.force_n - 8.896443230521) < 1e-9);
	/* a reading in kgF, e.g. after someone changed the menu */
	assert_int_equal(pressure(r)->set_probe_area(&r->dev, 0.5), QST_OK);
	rig_pump(r, 200 * MS);
	expect_sent(r, "?C\r");
	far_say(r, "1.5 kgF\r\n", 201 * MS);
	e = last_of(r, QST_EV_PRESSURE);
	assert_true(fabs(e->u.pressure.force_n - 14.709975) < 1e-9);
	assert_true(fabs(e->u.pressure.kpa - 294.1995) < 1e-9);
	assert_int_equal(count_pressure(r, 0), 3);
}

static void open_scripted(struct rig *r)
{
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	expect_sent(r, "RM\r");
	far_say(r, "M5-20\r\n", 0);
	expect_sent(r, "RV\r");
	far_say(r, "1.08\r\n", 0);
	expect_sent(r, "RS\r");
	far_say(r, "77\r\n", 0);
	expect_sent(r, "N\rLIST\r");
	far_say(r, "V1.08;N;CUR;FLTC8;FLTP1;AOUT00;AOFF5;FULL;MIT;POL;B2\r\n", 0);
	assert_true(r->dev.driver->ready(&r->dev));
	assert_string_equal(r->dev.info.firmware, "1.08");
}

/* One request outstanding; a lost reply is given up after 100 ms and
 * asked again; five in a row are reported as a fault. */
static void test_script_one_outstanding_and_timeout(void **state)
{
	struct rig *r = *state;
	open_scripted(r);
	assert_int_equal(pressure(r)->set_rate(&r->dev, 100.0), QST_OK);
	r->poll_due = 0;
	rig_pump(r, 0);
	expect_sent(r, "?C\r");
	/* unanswered: the 10 ms schedule asks nothing more */
	for (int64_t t = 10 * MS; t < 100 * MS; t += 10 * MS) {
		rig_pump(r, t);
		expect_sent(r, "");
	}
	rig_pump(r, 100 * MS);
	expect_sent(r, "?C\r"); /* given up, asked again */
	far_say(r, "0.52 N\r\n", 103 * MS);
	assert_int_equal(count_pressure(r, 0), 1);
	/* behind the 10 ms grid: the next request goes with the reply */
	expect_sent(r, "?C\r");
	far_say(r, "0.61 N\r\n", 104 * MS);
	expect_sent(r, ""); /* back on the grid: the next at 110 ms */
	assert_true(r->poll_due <= 110 * MS);
	rig_pump(r, 110 * MS);
	expect_sent(r, "?C\r");
	far_say(r, "0.70 N\r\n", 111 * MS);
	assert_int_equal(count_pressure(r, 0), 3);
	/* a setting in front of the next question, refused: *NN is its */
	assert_int_equal(pressure(r)->zero(&r->dev), QST_OK);
	expect_sent(r, "Z\r");
	far_say(r, "*11\r\n", 112 * MS);
	rig_pump(r, 120 * MS);
	expect_sent(r, "?C\r");
	far_say(r, "0.80 N\r\n", 121 * MS);
	assert_int_equal(count_pressure(r, 0), 4);
	assert_true(last_of(r, QST_EV_PRESSURE)->u.pressure.force_n == 0.80);
	/* the gauge goes quiet */
	int64_t t = 130 * MS;
	for (int i = 0; i < 6; i++) {
		rig_pump(r, t);
		t += 100 * MS;
	}
	const struct qst_event *f = last_of(r, QST_EV_DEVICE_FAULT);
	assert_non_null(f);
	assert_non_null(strstr(f->u.text, "no reply"));
	/* a late answer still counts */
	far_say(r, "0.90 N\r\n", t);
	assert_int_equal(count_pressure(r, 0), 5);
	/* stop polling */
	assert_int_equal(pressure(r)->set_rate(&r->dev, 0), QST_OK);
	far_read(r, (char[64]){ 0 }, 64);
	for (int i = 0; i < 5; i++) {
		t += 100 * MS;
		rig_pump(r, t);
	}
	expect_sent(r, "");
}

static void test_refusals(void **state)
{
	struct rig *r = *state;
	assert_int_equal(pressure(r)->zero(&r->dev), QST_ERR_STATE);
	open_scripted(r);
	const double rates[] = { -1, NAN, INFINITY, 1000.5 };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(pressure(r)->set_rate(&r->dev, rates[i]),
				 QST_ERR_ARG);
	const double areas[] = { 0, -1, NAN, 10.5 };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(pressure(r)->set_probe_area(&r->dev, areas[i]),
				 QST_ERR_ARG);
	assert_int_equal(pressure(r)->set_probe_area(&r->dev, 1.0), QST_OK);
	/* unasked lines: a reading streams through, text is passed on */
	size_t n = r->n_ev;
	far_say(r, "1.25 N\r\nhello\r\n", 5 * MS);
	assert_int_equal(count_pressure(r, n), 1);
	assert_int_equal(last_of(r, QST_EV_DEVICE_TEXT)->type, QST_EV_DEVICE_TEXT);
	assert_string_equal(last_of(r, QST_EV_DEVICE_TEXT)->u.text, "hello");
}

/* ------------------------------------------------ driver + simulator */

static void sim_open(struct rig *r)
{
	assert_false(r->dev.driver->ready(&r->dev));
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	r->poll_due = 0;
	while (!r->dev.driver->ready(&r->dev) && r->now < SEC)
		rig_run_until(r, r->now + MS);
	assert_true(r->dev.driver->ready(&r->dev));
}

static double mean_force(const struct rig *r, size_t from, int64_t t0,
			 int64_t t1, size_t *n_out)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = from; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type == QST_EV_PRESSURE && e->t_ns >= t0 && e->t_ns < t1) {
			sum += e->u.pressure.force_n;
			n++;
		}
	}
	if (n_out)
		*n_out = n;
	return n ? sum / (double)n : NAN;
}

static void test_sim_identity_rate_tare(void **state)
{
	struct rig *r = *state;
	sim_open(r);
	assert_string_equal(r->dev.info.model, "M5-100");
	assert_string_equal(r->dev.info.firmware, "1.00 qst simulator");
	assert_string_equal(r->dev.info.serial, "SIM-M10-0042");
	/* identification took a few round trips, not a timeout */
	assert_true(r->now < 20 * MS);

	size_t from = r->n_ev;
	int64_t t0 = r->now;
	assert_int_equal(pressure(r)->set_rate(&r->dev, 100.0), QST_OK);
	r->poll_due = r->now;
	rig_run_until(r, t0 + SEC);
	size_t n;
	/* the tip's weight until zeroed (mark10_sim.c), in N: `N` took */
	double before = mean_force(r, from, t0, t0 + SEC, &n);
	assert_in_range(n, 99, 101);
	assert_true(fabs(before - 0.30) < 0.05);
	int64_t prev = -1;
	for (size_t i = from; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_PRESSURE)
			continue;
		/* 1 cm²: 1 N/cm² = 10 kPa, exactly */
		assert_true(e->u.pressure.kpa == e->u.pressure.force_n * 10.0);
		if (prev >= 0 && labs((long)(e->t_ns - prev - 10 * MS)) > 200000)
			fail_msg("reading interval %lld ns",
				 (long long)(e->t_ns - prev));
		prev = e->t_ns;
	}

	assert_int_equal(pressure(r)->zero(&r->dev), QST_OK);
	int64_t tz = r->now;
	rig_run_until(r, tz + SEC);
	double after = mean_force(r, from, tz + 50 * MS, tz + SEC, &n);
	assert_true(n > 90);
	assert_true(fabs(after) < 0.03);
	/* a different probe: 0.5 cm² doubles the pressure */
	assert_int_equal(pressure(r)->set_probe_area(&r->dev, 0.5), QST_OK);
	rig_run_until(r, r->now + 100 * MS);
	const struct qst_event *e = last_of(r, QST_EV_PRESSURE);
	assert_true(e->u.pressure.kpa == e->u.pressure.force_n / 0.5 * 10.0);
	/* stop: no more readings */
	assert_int_equal(pressure(r)->set_rate(&r->dev, 0), QST_OK);
	rig_run_until(r, r->now + 20 * MS);
	size_t stopped = r->n_ev;
	rig_run_until(r, r->now + SEC);
	assert_int_equal(r->n_ev, stopped);
}

/* The simulated hand at 5 N/s: 50 kPa/s on 1 cm² (qst-domain.md §2.9). */
static void test_sim_hand_press_rate(void **state)
{
	struct rig *r = *state;
	sim_open(r);
	assert_int_equal(pressure(r)->zero(&r->dev), QST_OK);
	assert_int_equal(pressure(r)->set_rate(&r->dev, 100.0), QST_OK);
	r->poll_due = r->now;
	rig_run_until(r, r->now + 200 * MS);
	size_t from = r->n_ev;
	int64_t t0 = r->now;
	qst_mark10_sim_hand_press(r->sim, t0, 5.0);
	rig_run_until(r, t0 + 10 * SEC);
	assert_true(fabs(qst_mark10_sim_force_n(r->sim) - 50.0) < 2.0);

	static double t[2000], kpa[2000];
	size_t n = 0;
	for (size_t i = from; i < r->n_ev && n < 2000; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_PRESSURE)
			continue;
		t[n] = qst_ns_to_s(e->t_ns - t0);
		kpa[n] = e->u.pressure.kpa;
		n++;
	}
	assert_in_range(n, 995, 1001);
	double slope = qst_ppt_rate_kpa_s(t, kpa, n);
	if (fabs(slope - 50.0) > 1.5)
		fail_msg("fitted slope %.2f kPa/s, want 50 ± 1.5", slope);
	/* uneven like a hand: the 1-s rates differ, but not wildly */
	double lo = INFINITY, hi = -INFINITY;
	for (int s = 0; s < 10; s++) {
		size_t a = (size_t)s * n / 10, b = (size_t)(s + 1) * n / 10;
		double rs = qst_ppt_rate_kpa_s(t + a, kpa + a, b - a);
		lo = fmin(lo, rs);
		hi = fmax(hi, rs);
	}
	assert_true(hi - lo > 1.0);
	assert_true(lo > 40.0 && hi < 60.0);

	/* let go: back under 0.5 N within 0.3 s */
	int64_t tr = r->now;
	qst_mark10_sim_hand_release(r->sim, tr);
	rig_run_until(r, tr + 300 * MS);
	assert_true(qst_mark10_sim_force_n(r->sim) == 0.0);
	assert_true(fabs(last_of(r, QST_EV_PRESSURE)->u.pressure.force_n) < 0.5);
}

/* Past capacity the gauge saturates (mark10_sim.c: overload undocumented). */
static void test_sim_overload_and_illegal(void **state)
{
	struct rig *r = *state;
	sim_open(r);
	assert_int_equal(pressure(r)->zero(&r->dev), QST_OK);
	assert_int_equal(pressure(r)->set_rate(&r->dev, 50.0), QST_OK);
	r->poll_due = r->now;
	qst_mark10_sim_hand_press(r->sim, r->now, 100.0);
	rig_run_until(r, r->now + 7 * SEC);
	assert_true(qst_mark10_sim_force_n(r->sim) > 690.0);
	double max = 0;
	for (size_t i = 0; i < r->n_ev; i++)
		if (r->ev[i].type == QST_EV_PRESSURE)
			max = fmax(max, r->ev[i].u.pressure.force_n);
	assert_true(max == 500.0);
	/* an illegal command answers *10, passed on as device text */
	assert_int_equal(pressure(r)->set_rate(&r->dev, 0), QST_OK);
	rig_run_until(r, r->now + 50 * MS);
	assert_int_equal(qst_transport_write(r->transport, "XYZ\r", 4, 100), QST_OK);
	rig_pump(r, r->now);
	rig_run_until(r, r->now + 50 * MS);
	assert_string_equal(last_of(r, QST_EV_DEVICE_TEXT)->u.text, "*10");
}

/* Polling faster than the link carries: one request at a time, so the
 * rate settles at the round trip (~1.2 ms at 115200 baud in the sim). */
static void test_sim_as_fast_as_the_link(void **state)
{
	struct rig *r = *state;
	sim_open(r);
	assert_int_equal(pressure(r)->set_rate(&r->dev, 1000.0), QST_OK);
	r->poll_due = r->now;
	size_t from = r->n_ev;
	int64_t t0 = r->now;
	rig_run_until(r, t0 + SEC);
	size_t n = count_pressure(r, from);
	assert_in_range(n, 600, 1000);
	assert_int_equal(count_pressure(r, from), n);
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_and_encode),
		cmocka_unit_test(test_parse_replies),
		cmocka_unit_test(test_parser_every_split),
		cmocka_unit_test(test_parser_garbage),
		cmocka_unit_test_setup_teardown(test_script_identity_units_conversion,
						rig_setup_script, rig_teardown),
		cmocka_unit_test_setup_teardown(test_script_one_outstanding_and_timeout,
						rig_setup_script, rig_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, rig_setup_script,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_identity_rate_tare,
						rig_setup_sim, rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_hand_press_rate,
						rig_setup_sim, rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_overload_and_illegal,
						rig_setup_sim, rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_as_fast_as_the_link,
						rig_setup_sim, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
