/*
 * QST.Lab eVAS: line classification, scaling, the stream parser under
 * every split and every line ending, and the real driver against the
 * simulated slider over a pipe (ratings, markers, full scale, faults).
 */
#define _GNU_SOURCE /* posix_openpt, ptsname, cfmakeraw */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "../../drivers/evas/protocol.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS
#define SEC QST_NS_PER_S

/* ------------------------------------------------------ lines, scaling */

static void expect_line(const char *line, enum qst_evas_item_type type,
			int32_t raw, char marker)
{
	struct qst_evas_item it;
	if (qst_evas_parse_line(line, strlen(line), &it) != QST_OK)
		fail_msg("\"%s\" not parsed", line);
	assert_int_equal(it.type, type);
	assert_int_equal(it.raw, raw);
	assert_int_equal(it.marker, marker);
}

static void expect_bad_line(const char *line)
{
	struct qst_evas_item it;
	if (qst_evas_parse_line(line, strlen(line), &it) != QST_ERR_DATA)
		fail_msg("\"%s\" parsed", line);
}

static void test_parse_lines(void **state)
{
	(void)state;
	expect_line("42", QST_EVAS_ITEM_RATING, 42, 0);
	expect_line("0", QST_EVAS_ITEM_RATING, 0, 0);
	expect_line(" 7\t", QST_EVAS_ITEM_RATING, 7, 0);
	expect_line("+5", QST_EVAS_ITEM_RATING, 5, 0);
	expect_line("-3", QST_EVAS_ITEM_RATING, -3, 0);
	expect_line("007", QST_EVAS_ITEM_RATING, 7, 0);
	expect_line("999999", QST_EVAS_ITEM_RATING, 999999, 0);
	expect_line("L", QST_EVAS_ITEM_MARKER, -1, 'L');
	expect_line(" C ", QST_EVAS_ITEM_MARKER, -1, 'C');
	expect_line("R", QST_EVAS_ITEM_MARKER, -1, 'R');
	expect_line("999", QST_EVAS_ITEM_SENTINEL, 999, 'S');
	expect_line(" 999 ", QST_EVAS_ITEM_SENTINEL, 999, 'S');
	expect_line("0999", QST_EVAS_ITEM_RATING, 999, 0);
	const char *bad[] = { "", " ", "l", "LL", "LC", "4 2", "42a", "+", "-",
			      "1234567", "4.2", "0x10", "S", "nan" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad_line(bad[i]);
}

static void test_scale_and_format(void **state)
{
	(void)state;
	double v;
	assert_false(qst_evas_scale(50, 100, &v));
	assert_true(v == 50.0);
	assert_false(qst_evas_scale(250, 1000, &v));
	assert_true(v == 25.0);
	assert_false(qst_evas_scale(1000, 1000, &v));
	assert_true(v == 100.0);
	assert_true(qst_evas_scale(150, 100, &v));
	assert_true(v == 100.0);
	assert_true(qst_evas_scale(-3, 100, &v));
	assert_true(v == 0.0);
	char b[16];
	assert_int_equal(qst_evas_format_rating(42, "\r\n", b, sizeof(b)), 4);
	assert_string_equal(b, "42\r\n");
	assert_int_equal(qst_evas_format_rating(7, "\r", b, sizeof(b)), 2);
	assert_string_equal(b, "7\r");
	assert_int_equal(qst_evas_format_rating(7, "\n\r", b, sizeof(b)),
			 QST_ERR_ARG);
	assert_int_equal(qst_evas_format_rating(12345, "\r\n", b, 4),
			 QST_ERR_ARG);
}

/* ----------------------------------------------------------------- parser */

struct got {
	struct qst_evas_item items[64];
	size_t n;
};

static void feed_chunk(struct qst_evas_parser *p, struct got *g,
		       const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		struct qst_evas_item it;
		size_t n = qst_evas_parser_feed(p, buf + off, len - off, &it);
		assert_true(n > 0 && n <= len - off);
		off += n;
		if (it.type != QST_EVAS_ITEM_NONE) {
			assert_true(g->n < 64);
			g->items[g->n++] = it;
		}
	}
}

/*
 * Ratings and markers between lines no slider sends: binary bytes (9 of
 * them), a word (3), a line longer than QST_EVAS_LINE_MAX (19) and a
 * number of too many digits (7): 38 bytes discarded in 4 lines.
 */
static const char transcript[] =
	"42\r\n"
	"L\n"
	"  7 \r"
	"999\r\n"
	"\x01\x02garbage\r\n"
	"abc\n"
	"1234567890123456789\r\n"
	"C\r\n"
	"1234567\n"
	"R\n"
	"100\r\n"
	"\r\n\r\n"
	"+5\n"
	"-3\n"
	"0\r";

static void check_transcript(const struct got *g,
			     const struct qst_evas_parser *p)
{
	const enum qst_evas_item_type R = QST_EVAS_ITEM_RATING,
				      M = QST_EVAS_ITEM_MARKER,
				      S = QST_EVAS_ITEM_SENTINEL;
	const struct qst_evas_item want[] = {
		{ R, 42, 0 },  { M, -1, 'L' }, { R, 7, 0 },  { S, 999, 'S' },
		{ M, -1, 'C' }, { M, -1, 'R' }, { R, 100, 0 }, { R, 5, 0 },
		{ R, -3, 0 },  { R, 0, 0 },
	};
	assert_int_equal(g->n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < g->n; i++) {
		assert_int_equal(g->items[i].type, want[i].type);
		assert_int_equal(g->items[i].raw, want[i].raw);
		assert_int_equal(g->items[i].marker, want[i].marker);
	}
	assert_int_equal(p->dropped, 4);
	assert_int_equal(p->discarded, 38);
	assert_int_equal(p->ratings, 6);
	assert_int_equal(p->markers, 4);
}

static void test_parser_splits_and_garbage(void **state)
{
	(void)state;
	const uint8_t *b = (const uint8_t *)transcript;
	size_t len = sizeof(transcript) - 1;
	struct qst_evas_parser p;
	struct got g;
	for (size_t cut = 0; cut <= len; cut++) {
		qst_evas_parser_init(&p);
		memset(&g, 0, sizeof(g));
		feed_chunk(&p, &g, b, cut);
		feed_chunk(&p, &g, b + cut, len - cut);
		check_transcript(&g, &p);
	}
	for (size_t a = 0; a <= len; a += 3)
		for (size_t c = a; c <= len; c += 5) {
			qst_evas_parser_init(&p);
			memset(&g, 0, sizeof(g));
			feed_chunk(&p, &g, b, a);
			feed_chunk(&p, &g, b + a, c - a);
			feed_chunk(&p, &g, b + c, len - c);
			check_transcript(&g, &p);
		}
	qst_evas_parser_init(&p);
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < len; i++)
		feed_chunk(&p, &g, b + i, 1);
	check_transcript(&g, &p);
}

/* The same lines with each ending: CR LF, LF, CR and LF CR. */
static void test_parser_line_endings(void **state)
{
	(void)state;
	const char *endings[] = { "\r\n", "\n", "\r", "\n\r" };
	const char *lines[] = { "12", "L", "999", "x", "88" };
	for (size_t e = 0; e < 4; e++) {
		char buf[128] = "";
		for (size_t i = 0; i < 5; i++) {
			strcat(buf, lines[i]);
			strcat(buf, endings[e]);
		}
		struct qst_evas_parser p;
		struct got g = { .n = 0 };
		qst_evas_parser_init(&p);
		feed_chunk(&p, &g, (const uint8_t *)buf, strlen(buf));
		assert_int_equal(g.n, 4);
		assert_int_equal(g.items[0].raw, 12);
		assert_int_equal(g.items[1].marker, 'L');
		assert_int_equal(g.items[2].type, QST_EVAS_ITEM_SENTINEL);
		assert_int_equal(g.items[3].raw, 88);
		assert_int_equal(p.dropped, 1);
		assert_int_equal(p.discarded, 1);
	}
	/* A line still open at the end of the input is not an item yet. */
	struct qst_evas_parser p;
	struct got g = { .n = 0 };
	qst_evas_parser_init(&p);
	feed_chunk(&p, &g, (const uint8_t *)"55", 2);
	assert_int_equal(g.n, 0);
	feed_chunk(&p, &g, (const uint8_t *)"\n", 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.items[0].raw, 55);
}

/* ------------------------------------------------------ driver + simulator */

struct rig {
	struct qst_transport *transport;
	struct qst_evas_sim *sim;
	struct qst_dev dev;
	struct qst_event ev[512];
	size_t n_ev;
	uint64_t noise;
	int64_t now;
	double constant; /* the slider's rating, for the constant callback */
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	if (ev->type == QST_EV_LINK_NOISE)
		r->noise += ev->u.noise_bytes;
	if (r->n_ev < 512)
		r->ev[r->n_ev++] = *ev;
}

/* Step the slider to t and hand what arrived to the driver; the last
 * read's result (0 or a negative error). */
static ssize_t rig_pump(struct rig *r, int64_t t)
{
	qst_evas_sim_step(r->sim, t);
	uint8_t buf[64];
	ssize_t n;
	while ((n = qst_transport_read(r->transport, buf, sizeof(buf), NULL)) > 0)
		r->dev.driver->receive(&r->dev, buf, (size_t)n, t);
	r->now = t;
	return n;
}

static void rig_run_until(struct rig *r, int64_t end)
{
	while (r->now < end) {
		int64_t t = qst_evas_sim_next_due(r->sim);
		if (t <= r->now)
			t = r->now + MS;
		if (t > end)
			t = end;
		assert_true(rig_pump(r, t) == 0);
	}
}

/* Untouched for the first half second, then 10 per second from 0. */
static double ramp(void *user, int64_t t_ns)
{
	(void)user;
	if (t_ns < 500 * MS)
		return NAN;
	return qst_ns_to_s(t_ns) * 10.0;
}

static double constant(void *user, int64_t t_ns)
{
	(void)t_ns;
	return ((struct rig *)user)->constant;
}

static struct rig *rig_new(const struct qst_evas_sim_config *cfg)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	int far;
	assert_int_equal(qst_transport_pipe_open("evas-test", &r->transport,
						 &far), QST_OK);
	struct qst_evas_sim_config c = *cfg;
	if (c.rating == constant)
		c.user = r;
	assert_int_equal(qst_evas_sim_new(far, &c, 0, &r->sim), QST_OK);
	r->dev.driver = qst_driver_find("evas");
	assert_non_null(r->dev.driver);
	r->dev.transport = r->transport;
	r->dev.index = 3;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	return r;
}

static void rig_free(struct rig *r)
{
	r->dev.driver->close(&r->dev);
	qst_transport_close(r->transport);
	qst_evas_sim_free(r->sim);
	free(r);
}

/*
 * The driver fed the transcript in reads of 1..7 bytes: the same events
 * whatever the split, and link noise adding up to the parser's 38
 * discarded bytes.
 */
static void test_driver_chunks_and_noise(void **state)
{
	(void)state;
	struct qst_evas_sim_config cfg = { 0 };
	const uint8_t *b = (const uint8_t *)transcript;
	size_t len = sizeof(transcript) - 1;
	for (size_t step = 1; step <= 7; step++) {
		struct rig *r = rig_new(&cfg);
		for (size_t off = 0; off < len; off += step) {
			size_t n = len - off < step ? len - off : step;
			r->dev.driver->receive(&r->dev, b + off, n,
					       (int64_t)off * MS);
		}
		assert_int_equal(r->noise, 38);
		const char markers[] = { 0, 'L', 0, 'S', 'C', 'R', 0, 0, 0, 0 };
		const double values[] = { 42, NAN, 7, NAN, NAN, NAN, 100, 5, 0, 0 };
		const int32_t raws[] = { 42, -1, 7, 999, -1, -1, 100, 5, -3, 0 };
		size_t k = 0;
		for (size_t i = 0; i < r->n_ev; i++) {
			const struct qst_event *e = &r->ev[i];
			if (e->type == QST_EV_LINK_NOISE)
				continue;
			assert_int_equal(e->type, QST_EV_RATING);
			assert_true(k < 10);
			assert_int_equal(e->u.rating.marker, markers[k]);
			assert_int_equal(e->u.rating.raw, raws[k]);
			if (isnan(values[k]))
				assert_true(isnan(e->u.rating.value));
			else
				assert_true(e->u.rating.value == values[k]);
			k++;
		}
		assert_int_equal(k, 10);
		rig_free(r);
	}
}

static void test_driver_streams_ratings(void **state)
{
	(void)state;
	struct qst_evas_sim_config cfg = { .rating = ramp };
	struct rig *r = rig_new(&cfg);
	assert_int_equal(r->dev.driver->dev_class, QST_DEV_RATING);
	assert_null(qst_dev_sync(&r->dev));
	assert_non_null(qst_dev_rating(&r->dev));
	assert_true(r->dev.driver->ready(&r->dev));
	assert_string_equal(r->dev.info.model, "QST.Lab eVAS (unidentified)");
	rig_run_until(r, 2 * SEC);
	/* 50 lines/s from 0.50 s to 2.00 s inclusive */
	assert_int_equal(r->n_ev, 76);
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		assert_int_equal(e->type, QST_EV_RATING);
		assert_int_equal(e->device, 3);
		assert_int_equal(e->t_ns, 500 * MS + (int64_t)i * 20 * MS);
		long want = lround(qst_ns_to_s(e->t_ns) * 10.0);
		assert_int_equal(e->u.rating.raw, want);
		assert_true(e->u.rating.value == (double)want);
		assert_int_equal(e->u.rating.marker, 0);
	}
	assert_int_equal(r->noise, 0);
	rig_free(r);
}

static void test_driver_markers(void **state)
{
	(void)state;
	struct qst_evas_sim_config cfg = { .eol = "\n" };
	struct rig *r = rig_new(&cfg);
	assert_int_equal(qst_evas_sim_next_due(r->sim), QST_SIM_NEVER);
	assert_int_equal(qst_evas_sim_marker(r->sim, 'L'), QST_OK);
	assert_int_equal(qst_evas_sim_marker(r->sim, 'S'), QST_OK);
	assert_int_equal(qst_evas_sim_marker(r->sim, 'R'), QST_OK);
	assert_int_equal(qst_evas_sim_marker(r->sim, 'x'), QST_ERR_ARG);
	assert_int_equal(qst_evas_sim_next_due(r->sim), 0);
	assert_true(rig_pump(r, 30 * MS) == 0);
	assert_int_equal(r->n_ev, 3);
	const char want[] = { 'L', 'S', 'R' };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(r->ev[i].type, QST_EV_RATING);
		assert_int_equal(r->ev[i].t_ns, 30 * MS);
		assert_int_equal(r->ev[i].u.rating.marker, want[i]);
		assert_true(isnan(r->ev[i].u.rating.value));
	}
	assert_int_equal(r->ev[0].u.rating.raw, -1);
	assert_int_equal(r->ev[1].u.rating.raw, 999);
	assert_int_equal(qst_evas_sim_next_due(r->sim), QST_SIM_NEVER);
	rig_free(r);
}

/* A slider sending 0..1000: wrong full scale clamps, the right one fits. */
static void test_driver_full_scale(void **state)
{
	(void)state;
	struct qst_evas_sim_config cfg = { .rating = constant,
					   .full_scale = 1000, .rate_hz = 10,
					   .eol = "\r" };
	struct rig *r = rig_new(&cfg);
	const struct qst_rating_ops *ops = qst_dev_rating(&r->dev);
	r->constant = 62.5;
	rig_run_until(r, 250 * MS);
	assert_int_equal(r->n_ev, 3);
	assert_int_equal(r->ev[0].u.rating.raw, 625);
	assert_true(r->ev[0].u.rating.value == 100.0); /* clamped at 100 */
	assert_int_equal(ops->set_full_scale(&r->dev, 0), QST_ERR_ARG);
	assert_int_equal(ops->set_full_scale(&r->dev, QST_EVAS_MAX_FULL_SCALE + 1),
			 QST_ERR_ARG);
	assert_int_equal(ops->set_full_scale(&r->dev, 1000), QST_OK);
	r->n_ev = 0;
	rig_run_until(r, 450 * MS);
	assert_int_equal(r->n_ev, 2);
	assert_int_equal(r->ev[0].u.rating.raw, 625);
	assert_true(r->ev[0].u.rating.value == 62.5);
	/* With a full scale of 1000, `999` is a rating near the top. */
	r->n_ev = 0;
	assert_int_equal(qst_evas_sim_marker(r->sim, 'S'), QST_OK);
	assert_true(rig_pump(r, 460 * MS) == 0);
	assert_int_equal(r->n_ev, 1);
	assert_int_equal(r->ev[0].u.rating.marker, 0);
	assert_true(r->ev[0].u.rating.value == 99.9);
	rig_free(r);
}

/*
 * Noise from 1 s to 2 s. Before it every line arrives exact; during it
 * the driver reports the discarded bytes. A line protocol has no start
 * mark, so a burst merges with the line behind it and that line is lost;
 * a random digit or line end can also make a garbled line parse, so only
 * a small share of wrong values is asked for there. Once the noise stops,
 * the parser is back in step from the next line on: all exact.
 */
static void test_driver_garbage(void **state)
{
	(void)state;
	struct qst_evas_sim_config cfg = { .rating = constant };
	struct rig *r = rig_new(&cfg);
	r->constant = 37;
	struct qst_sim_fault f = { .kind = QST_SIM_FAULT_GARBAGE,
				   .at_ns = 1 * SEC, .arg = 1.0, .seed = 7 };
	assert_int_equal(qst_evas_sim_set_fault(r->sim, &f), QST_OK);
	rig_run_until(r, 4 * SEC);
	size_t before = 0, during = 0, wrong = 0, after = 0, noise_events = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type == QST_EV_LINK_NOISE) {
			noise_events++;
			continue;
		}
		assert_int_equal(e->type, QST_EV_RATING);
		bool exact = e->u.rating.raw == 37 && e->u.rating.marker == 0;
		if (e->t_ns < 1 * SEC || e->t_ns > 2 * SEC) {
			assert_true(exact);
			*(e->t_ns < 1 * SEC ? &before : &after) += 1;
		} else if (e->t_ns < 2 * SEC) {
			during++;
			wrong += !exact;
		}
	}
	assert_int_equal(before, 50);
	assert_int_equal(after, 100); /* 2.02 s .. 4.00 s */
	assert_true(noise_events > 0);
	assert_true(r->noise > 100); /* 50 lines and 100 bursts garbled */
	assert_true(wrong * 10 <= 50); /* of the 50 lines sent meanwhile */
	assert_true(during < 50);
	rig_free(r);
}

static void test_driver_disconnect_and_stall(void **state)
{
	(void)state;
	struct qst_evas_sim_config cfg = { .rating = constant };
	struct rig *r = rig_new(&cfg);
	r->constant = 10;
	struct qst_sim_fault f = { .kind = QST_SIM_FAULT_DISCONNECT,
				   .at_ns = 1 * SEC };
	assert_int_equal(qst_evas_sim_set_fault(r->sim, &f), QST_OK);
	rig_run_until(r, 1 * SEC - 1);
	assert_int_equal(r->n_ev, 50);
	assert_int_equal(rig_pump(r, 1 * SEC), QST_ERR_IO);
	assert_int_equal(r->n_ev, 50);
	rig_free(r);

	r = rig_new(&cfg);
	r->constant = 10;
	f = (struct qst_sim_fault){ .kind = QST_SIM_FAULT_STALL, .at_ns = SEC };
	assert_int_equal(qst_evas_sim_set_fault(r->sim, &f), QST_OK);
	rig_run_until(r, 3 * SEC);
	assert_int_equal(r->n_ev, 50);
	assert_int_equal(r->ev[49].t_ns, 980 * MS);
	rig_free(r);
}

/* A pseudo-terminal pair in raw mode, both ends non-blocking: the
 * simulator on the master, a program reading the slave like a port. */
static void open_pty(int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(*master >= 0);
	assert_int_equal(grantpt(*master), 0);
	assert_int_equal(unlockpt(*master), 0);
	*slave = open(ptsname(*master), O_RDWR | O_NOCTTY | O_NONBLOCK);
	assert_true(*slave >= 0);
	struct termios tio;
	assert_int_equal(tcgetattr(*slave, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(*slave, TCSANOW, &tio), 0);
}

/* The simulator needs only an fd: on a pty it streams as on the pipe. */
static void test_sim_on_pty(void **state)
{
	(void)state;
	int master, slave;
	open_pty(&master, &slave);
	struct rig r = { .constant = 81 };
	struct qst_evas_sim_config cfg = { .rating = constant, .user = &r,
					   .rate_hz = 100 };
	struct qst_evas_sim *sim;
	assert_int_equal(qst_evas_sim_new(master, &cfg, 0, &sim), QST_OK);
	assert_int_equal(qst_evas_sim_marker(sim, 'C'), QST_OK);
	qst_evas_sim_step(sim, 45 * MS); /* lines at 0, 10 .. 40 ms, then C */
	struct qst_evas_parser p;
	struct got g = { .n = 0 };
	qst_evas_parser_init(&p);
	uint8_t buf[256];
	ssize_t n;
	for (int tries = 0; tries < 100 && g.n < 6; tries++) {
		while ((n = read(slave, buf, sizeof(buf))) > 0)
			feed_chunk(&p, &g, buf, (size_t)n);
		if (g.n < 6)
			usleep(1000);
	}
	assert_int_equal(g.n, 6);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(g.items[i].raw, 81);
	assert_int_equal(g.items[5].marker, 'C');
	assert_int_equal(p.dropped, 0);
	qst_evas_sim_free(sim); /* closes master */
	close(slave);
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_lines),
		cmocka_unit_test(test_scale_and_format),
		cmocka_unit_test(test_parser_splits_and_garbage),
		cmocka_unit_test(test_parser_line_endings),
		cmocka_unit_test(test_driver_chunks_and_noise),
		cmocka_unit_test(test_driver_streams_ratings),
		cmocka_unit_test(test_driver_markers),
		cmocka_unit_test(test_driver_full_scale),
		cmocka_unit_test(test_driver_garbage),
		cmocka_unit_test(test_driver_disconnect_and_stall),
		cmocka_unit_test(test_sim_on_pty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
