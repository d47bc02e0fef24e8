/*
 * QST.Lab TCS II: command encoders, the stream parser under every way of
 * chunking, and the real driver against the simulator over a pipe on a
 * virtual time loop.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>

#include <cmocka.h>

#include "../../drivers/tcs2/protocol.h"
#include "../../drivers/tcs2/tcs2.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS
#define SEC QST_NS_PER_S

/* --------------------------------------------------------------- encoders */

static void expect_cmd(int n, const char *buf, const char *want)
{
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
}

static void test_encode_commands(void **state)
{
	(void)state;
	char b[QST_TCS2_CMD_MAX];
	expect_cmd(qst_tcs2_enc_neutral(b, sizeof(b), 320), b, "N320");
	expect_cmd(qst_tcs2_enc_neutral(b, sizeof(b), 200), b, "N200");
	expect_cmd(qst_tcs2_enc_max(b, sizeof(b), 500), b, "Om500");
	expect_cmd(qst_tcs2_enc_zones(b, sizeof(b), 0x1f), b, "S11111");
	expect_cmd(qst_tcs2_enc_zones(b, sizeof(b), 0x15), b, "S10101");
	expect_cmd(qst_tcs2_enc_zones(b, sizeof(b), 0x02), b, "S01000");
	expect_cmd(qst_tcs2_enc_target(b, sizeof(b), 0, 450), b, "C0450");
	expect_cmd(qst_tcs2_enc_target(b, sizeof(b), 3, 100), b, "C3100");
	expect_cmd(qst_tcs2_enc_target(b, sizeof(b), 5, 600), b, "C5600");
	/* the 0 °C cold cut-off, as labs send it (devices.md §1.3, T-PL) */
	expect_cmd(qst_tcs2_enc_target(b, sizeof(b), 0, 0), b, "C0000");
	expect_cmd(qst_tcs2_enc_rise(b, sizeof(b), 0, 10), b, "V00010");
	expect_cmd(qst_tcs2_enc_rise(b, sizeof(b), 2, 9999), b, "V29999");
	expect_cmd(qst_tcs2_enc_return(b, sizeof(b), 0, 1), b, "R00001");
	expect_cmd(qst_tcs2_enc_duration(b, sizeof(b), 0, 500), b, "D000500");
	expect_cmd(qst_tcs2_enc_duration(b, sizeof(b), 1, 99999), b, "D199999");
	assert_string_equal(QST_TCS2_CMD_START, "L");
	assert_string_equal(QST_TCS2_CMD_ABORT, "A");
	assert_string_equal(QST_TCS2_CMD_TEMPERATURES, "E");
	assert_string_equal(QST_TCS2_CMD_MUTE, "F");
	assert_string_equal(QST_TCS2_CMD_IDENTIFY, "?");
}

static void test_encode_refusals(void **state)
{
	(void)state;
	char b[QST_TCS2_CMD_MAX];
	assert_int_equal(qst_tcs2_enc_neutral(b, sizeof(b), 199), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_neutral(b, sizeof(b), 401), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_max(b, sizeof(b), 601), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_max(b, sizeof(b), 99), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_zones(b, sizeof(b), 0x20), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_target(b, sizeof(b), 0, -1), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_target(b, sizeof(b), 0, 601), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_target(b, sizeof(b), 6, 400), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_target(b, sizeof(b), -1, 400), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_rise(b, sizeof(b), 0, 0), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_rise(b, sizeof(b), 0, 10000), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_return(b, sizeof(b), 0, 0), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_duration(b, sizeof(b), 0, 0), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_enc_duration(b, sizeof(b), 0, 100000),
			 QST_ERR_ARG);
	/* Too small a buffer is refused, never overrun. */
	assert_int_equal(qst_tcs2_enc_duration(b, 4, 0, 500), QST_ERR_ARG);
	int t;
	assert_int_equal(qst_tcs2_to_tenths(NAN, &t), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_to_tenths(INFINITY, &t), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_to_tenths(32.04, &t), QST_OK);
	assert_int_equal(t, 320);
	assert_int_equal(qst_tcs2_to_tenths(32.06, &t), QST_OK);
	assert_int_equal(t, 321);
}

static void test_frame_format_and_parse(void **state)
{
	(void)state;
	struct qst_tcs2_frame f = { { 320, 321, -5, 12, 999, -999 } };
	char buf[32];
	int n = qst_tcs2_format_frame(&f, buf, sizeof(buf));
	assert_int_equal(n, 24); /* devices.md §1.4: 24 bytes incl. CR */
	assert_string_equal(buf, "\r320+321-005+012+999-999");
	struct qst_tcs2_frame g;
	assert_int_equal(qst_tcs2_parse_frame(buf + 1, 23, &g), QST_OK);
	assert_memory_equal(&f, &g, sizeof(f));
	/* Leading-sign variant (T-EV) accepted. */
	const char *plus = "+300+300+300+300+300+300";
	assert_int_equal(qst_tcs2_parse_frame(plus, strlen(plus), &g), QST_OK);
	assert_int_equal(g.tenths[0], 300);
	assert_int_equal(g.tenths[5], 300);
	const char *bad[] = { "320+320+320+320+320", "320+320+320+320+320+32",
			      "320 320+320+320+320+320", "320+320+320+320+320+3201",
			      "32a+320+320+320+320+320", "TCS" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(qst_tcs2_parse_frame(bad[i], strlen(bad[i]), &g),
				 QST_ERR_DATA);
	f.tenths[2] = 1000;
	assert_int_equal(qst_tcs2_format_frame(&f, buf, sizeof(buf)), QST_ERR_ARG);
}

/* ----------------------------------------------------------------- parser */

struct want {
	enum qst_tcs2_item_type type;
	const char *text;
	int t[6];
};

static const char transcript[] =
	"\rFirmware: 012 Jun 20 2022 11:07:51"
	"\rProbe ID: 2D DD 40 C1 3A 00 00 B2"
	"\rProbe TYPE: 003"
	"\r"
	"\rCommand list:"
	"\rTCS"
	"\r320+320+321+319+320+320"
	"\r320+335+336+334+335+335\r\n00"
	"\r\n+300+300+300+300+300+300"
	"\r320-005+012+999-999+000"
	"\r3.91v 80%"
	"\r320+320+320+320+320+320";

static const struct want transcript_items[] = {
	{ QST_TCS2_ITEM_TEXT, "Firmware: 012 Jun 20 2022 11:07:51", { 0 } },
	{ QST_TCS2_ITEM_TEXT, "Probe ID: 2D DD 40 C1 3A 00 00 B2", { 0 } },
	{ QST_TCS2_ITEM_TEXT, "Probe TYPE: 003", { 0 } },
	{ QST_TCS2_ITEM_TEXT, "Command list:", { 0 } },
	{ QST_TCS2_ITEM_TEXT, "TCS", { 0 } },
	{ QST_TCS2_ITEM_FRAME, NULL, { 320, 320, 321, 319, 320, 320 } },
	{ QST_TCS2_ITEM_FRAME, NULL, { 320, 335, 336, 334, 335, 335 } },
	{ QST_TCS2_ITEM_TEXT, "00", { 0 } },
	{ QST_TCS2_ITEM_FRAME, NULL, { 300, 300, 300, 300, 300, 300 } },
	{ QST_TCS2_ITEM_FRAME, NULL, { 320, -5, 12, 999, -999, 0 } },
	{ QST_TCS2_ITEM_TEXT, "3.91v 80%", { 0 } },
	{ QST_TCS2_ITEM_FRAME, NULL, { 320, 320, 320, 320, 320, 320 } },
};
#define N_TRANSCRIPT_ITEMS (sizeof(transcript_items) / sizeof(transcript_items[0]))

struct got {
	struct qst_tcs2_item items[64];
	size_t n;
};

static void feed_chunk(struct qst_tcs2_parser *p, struct got *g,
		       const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		struct qst_tcs2_item it;
		size_t n = qst_tcs2_parser_feed(p, buf + off, len - off, &it);
		assert_true(n > 0 && n <= len - off);
		off += n;
		if (it.type != QST_TCS2_ITEM_NONE) {
			assert_true(g->n < 64);
			g->items[g->n++] = it;
		}
	}
}

static void check_items(const struct got *g, const struct want *w, size_t nw)
{
	assert_int_equal(g->n, nw);
	for (size_t i = 0; i < nw; i++) {
		assert_int_equal(g->items[i].type, w[i].type);
		if (w[i].type == QST_TCS2_ITEM_TEXT)
			assert_string_equal(g->items[i].text, w[i].text);
		else
			assert_memory_equal(g->items[i].frame.tenths, w[i].t,
					    sizeof(w[i].t));
	}
}

/* Feed msg split at the cut points; cuts[] ascending, within (0, len). */
static void parse_with_cuts(const uint8_t *msg, size_t len, const size_t *cuts,
			    size_t ncuts, struct got *g)
{
	struct qst_tcs2_parser p;
	qst_tcs2_parser_init(&p);
	memset(g, 0, sizeof(*g));
	size_t start = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		feed_chunk(&p, g, msg + start, end - start);
		start = end;
	}
}

static void test_parser_every_split(void **state)
{
	(void)state;
	const uint8_t *msg = (const uint8_t *)transcript;
	size_t len = sizeof(transcript) - 1;
	struct got g;
	/* whole */
	parse_with_cuts(msg, len, NULL, 0, &g);
	check_items(&g, transcript_items, N_TRANSCRIPT_ITEMS);
	/* every single split point */
	for (size_t c = 1; c < len; c++) {
		parse_with_cuts(msg, len, &c, 1, &g);
		check_items(&g, transcript_items, N_TRANSCRIPT_ITEMS);
	}
	/* every pair of split points */
	for (size_t a = 1; a < len; a += 1)
		for (size_t b = a + 1; b < len; b += 3) {
			size_t cuts[2] = { a, b };
			parse_with_cuts(msg, len, cuts, 2, &g);
			check_items(&g, transcript_items, N_TRANSCRIPT_ITEMS);
		}
	/* byte by byte */
	struct qst_tcs2_parser p;
	qst_tcs2_parser_init(&p);
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < len; i++)
		feed_chunk(&p, &g, msg + i, 1);
	check_items(&g, transcript_items, N_TRANSCRIPT_ITEMS);
	assert_int_equal(p.frames, 5);
	assert_int_equal(p.lines, 7);
	assert_int_equal(p.dropped, 0);
}

static void test_parser_random_chunks_and_merged(void **state)
{
	(void)state;
	const uint8_t *msg = (const uint8_t *)transcript;
	size_t len = sizeof(transcript) - 1;
	struct qst_rng rng;
	qst_rng_seed(&rng, 20240611);
	for (int round = 0; round < 500; round++) {
		size_t cuts[64];
		size_t n = 0, pos = 0;
		while (n < 64) {
			pos += 1 + (size_t)(qst_rng_uniform(&rng) * 40);
			if (pos >= len)
				break;
			cuts[n++] = pos;
		}
		struct got g;
		parse_with_cuts(msg, len, cuts, n, &g);
		check_items(&g, transcript_items, N_TRANSCRIPT_ITEMS);
	}
	/* Two transcripts merged into one chunk: the first's last frame is
	 * complete by shape, so nothing is lost at the seam. */
	uint8_t twice[2 * sizeof(transcript)];
	memcpy(twice, msg, len);
	memcpy(twice + len, msg, len);
	struct got g;
	parse_with_cuts(twice, 2 * len, NULL, 0, &g);
	assert_int_equal(g.n, 2 * N_TRANSCRIPT_ITEMS);
	struct got second = { .n = N_TRANSCRIPT_ITEMS };
	memcpy(second.items, g.items + N_TRANSCRIPT_ITEMS,
	       N_TRANSCRIPT_ITEMS * sizeof(g.items[0]));
	check_items(&second, transcript_items, N_TRANSCRIPT_ITEMS);
}

/*
 * Garbage: binary bytes after a complete frame are skipped; binary bytes
 * inside a line drop that line only; an over-long line is dropped; the
 * parser resynchronises at the next CR every time.
 */
static void test_parser_garbage(void **state)
{
	(void)state;
	size_t pos = 0;
	uint8_t buf[1024];
#define ADD(s, n) do { memcpy(buf + pos, s, n); pos += n; } while (0)
	ADD("\x01\xff\x7f junk", 9);
	ADD("\rTCS", 4);
	ADD("\r320+320+321+319+320+320", 24);
	ADD("\x00\x13\xfe", 3);
	ADD("\r320+33\x01" "5+336+334+335+335", 24);
	ADD("\r320+335+336+334+335+335", 24);
	ADD("\r\x02\x03 noise", 9);
	buf[pos++] = '\r';
	memset(buf + pos, 'x', 200);
	pos += 200;
	ADD("\r00", 3);
	ADD("\r+300+300+300+300+300+300", 25);
#undef ADD
	const struct want w[] = {
		{ QST_TCS2_ITEM_TEXT, "TCS", { 0 } },
		{ QST_TCS2_ITEM_FRAME, NULL, { 320, 320, 321, 319, 320, 320 } },
		{ QST_TCS2_ITEM_FRAME, NULL, { 320, 335, 336, 334, 335, 335 } },
		{ QST_TCS2_ITEM_TEXT, "00", { 0 } },
		{ QST_TCS2_ITEM_FRAME, NULL, { 300, 300, 300, 300, 300, 300 } },
	};
	size_t nw = sizeof(w) / sizeof(w[0]);
	struct got g;
	struct qst_tcs2_parser p;
	qst_tcs2_parser_init(&p);
	memset(&g, 0, sizeof(g));
	feed_chunk(&p, &g, buf, pos);
	check_items(&g, w, nw);
	/* junk before the first CR, the corrupt frame, the noise line and
	 * the over-long line */
	assert_int_equal(p.dropped, 4);
	/* every byte of those, and the 3 trailing a frame: 9 + 3 + 23 + 8 + 200 */
	assert_int_equal(p.noise_bytes, 243);
	for (size_t c = 1; c < pos; c++) {
		parse_with_cuts(buf, pos, &c, 1, &g);
		check_items(&g, w, nw);
	}
	qst_tcs2_parser_init(&p);
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < pos; i++)
		feed_chunk(&p, &g, buf + i, 1);
	check_items(&g, w, nw);
}

/* ------------------------------------------------------ driver + simulator */

#define MAX_EVENTS 8192

struct rig {
	struct qst_transport *transport;
	int far_fd;
	struct qst_tcs2_sim *sim;
	struct qst_dev dev;
	struct qst_event *ev;
	size_t n_ev;
	int64_t now;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	if (r->n_ev < MAX_EVENTS)
		r->ev[r->n_ev++] = *ev;
}

/* Bring the simulator to t, then read what it said and hand it over. */
static void rig_pump(struct rig *r, int64_t t)
{
	qst_tcs2_sim_step(r->sim, t);
	uint8_t buf[512];
	for (;;) {
		ssize_t n = qst_transport_read(r->transport, buf, sizeof(buf), NULL);
		assert_true(n >= 0);
		if (n == 0)
			break;
		r->dev.driver->receive(&r->dev, buf, (size_t)n, t);
	}
	r->now = t;
}

static void rig_run_until(struct rig *r, int64_t end)
{
	while (r->now < end) {
		int64_t t = qst_tcs2_sim_next_due(r->sim);
		if (t <= r->now)
			t = r->now + 1000;
		if (t > end)
			t = end;
		rig_pump(r, t);
	}
}

static const struct qst_thermal_ops *thermal(struct rig *r)
{
	return qst_dev_thermal(&r->dev);
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->ev = calloc(MAX_EVENTS, sizeof(*r->ev));
	assert_non_null(r->ev);
	assert_int_equal(qst_transport_pipe_open("tcs2-test", &r->transport,
						 &r->far_fd), QST_OK);
	struct qst_tcs2_sim_config cfg = {
		.initial_c = 32.0, .max_heat_c_s = 70.0, .max_cool_c_s = 40.0,
		.lag_s = 0.05, .noise_sd_c = 0.02, .seed = 42,
	};
	snprintf(cfg.serial, sizeof(cfg.serial), "SIM-0042");
	assert_int_equal(qst_tcs2_sim_new(r->far_fd, &cfg, 0, &r->sim), QST_OK);
	r->dev.driver = qst_driver_find("tcs2");
	assert_non_null(r->dev.driver);
	r->dev.transport = r->transport;
	r->dev.index = 3;
	r->dev.sink.fn = collect;
	r->dev.sink.user = r;
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	r->dev.driver->close(&r->dev);
	qst_transport_close(r->transport);
	qst_tcs2_sim_free(r->sim);
	free(r->ev);
	free(r);
	return 0;
}

static void rig_open(struct rig *r)
{
	assert_false(r->dev.driver->ready(&r->dev));
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	rig_pump(r, 0);
	assert_true(r->dev.driver->ready(&r->dev));
	assert_int_equal(thermal(r)->set_neutral(&r->dev, 32.0), QST_OK);
	assert_int_equal(thermal(r)->set_max(&r->dev, 50.0), QST_OK);
	rig_pump(r, r->now);
}

static double mean_zone(const struct qst_event *ev)
{
	double s = 0;
	for (int z = 0; z < QST_THERMODE_ZONES; z++)
		s += ev->u.temp.zone_c[z];
	return s / QST_THERMODE_ZONES;
}

static void test_open_identifies(void **state)
{
	struct rig *r = *state;
	assert_string_equal(r->dev.driver->longname,
			    "QST.Lab TCS II thermal stimulator");
	/* Before open there is no readback: ramps are refused. */
	rig_open(r);
	assert_string_equal(r->dev.info.model, "QST.Lab TCS II");
	assert_string_equal(r->dev.info.serial, "SIM-0042");
	assert_non_null(strstr(r->dev.info.firmware, "simulator"));
	bool saw_tcs = false, saw_temp = false;
	for (size_t i = 0; i < r->n_ev; i++) {
		assert_int_equal(r->ev[i].device, 3);
		if (r->ev[i].type == QST_EV_DEVICE_TEXT &&
		    strcmp(r->ev[i].u.text, "TCS") == 0)
			saw_tcs = true;
		if (r->ev[i].type == QST_EV_TEMPERATURE) {
			saw_temp = true;
			assert_true(fabs(r->ev[i].u.temp.neutral_c - 32.0) < 1e-9);
			assert_true(fabs(mean_zone(&r->ev[i]) - 32.0) < 0.1);
		}
	}
	assert_true(saw_tcs);
	assert_true(saw_temp);
	assert_string_equal(r->transport->description, "pipe:tcs2-test");
}

static void test_ramp_before_readback_refused(void **state)
{
	struct rig *r = *state;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	assert_int_equal(thermal(r)->ramp(&r->dev, 40, 1, 0, 1), QST_ERR_STATE);
}

/* The profile the device is told to play: rise, plateau until D, return. */
static double profile_c(double el, double from, double target, double rate,
			double hold, double back, double neutral)
{
	double rise_s = fabs(target - from) / rate;
	double dir = target > from ? 1 : -1;
	if (el < rise_s)
		return from + dir * rate * el;
	if (el < rise_s + hold)
		return target;
	double r = target + (neutral > target ? 1 : -1) * back * (el - rise_s - hold);
	return (neutral > target) ? fmin(r, neutral) : fmax(r, neutral);
}

static void test_ramp_tracks_profile(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	rig_run_until(r, 2 * SEC);
	r->n_ev = 0;
	int64_t t_l = r->now;
	assert_int_equal(thermal(r)->ramp(&r->dev, 40.0, 1.0, 0.0, 1.0), QST_OK);
	rig_pump(r, t_l);
	assert_true(qst_tcs2_sim_stimulating(r->sim));
	rig_run_until(r, t_l + 20 * SEC);
	assert_false(qst_tcs2_sim_stimulating(r->sim));

	/*
	 * Lines come every 10 ms while stimulating, then every 1 s
	 * (devices.md §1.4). D comes from the readback, so the exact end may
	 * shift by a few ms of noise: count, don't pin.
	 */
	size_t n_stim = 0, n_idle_after = 0;
	int64_t last_t = t_l;
	double peak = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_TEMPERATURE)
			continue;
		double el = qst_ns_to_s(e->t_ns - t_l);
		double want = profile_c(el, 32.0, 40.0, 1.0, 0.0, 1.0, 32.0);
		double got = mean_zone(e);
		if (fabs(got - want) > 0.2)
			fail_msg("at %.3f s read %.2f °C, profile %.2f °C", el,
				 got, want);
		peak = fmax(peak, got);
		int64_t gap = e->t_ns - last_t;
		if (n_idle_after == 0 && gap == 10 * MS) {
			n_stim++;
		} else {
			assert_int_equal(gap, SEC);
			n_idle_after++;
		}
		last_t = e->t_ns;
	}
	assert_in_range(n_stim, 1590, 1601);
	assert_in_range(n_idle_after, 3, 4);
	assert_true(peak > 39.8);
	assert_true(fabs(qst_tcs2_sim_plate_c(r->sim) - 32.0) < 0.01);
}

/*
 * The station brings the thermode back after a button press with
 * ramp(neutral, return, 0, return) while the first stimulus still runs:
 * the new one must replace it at once.
 */
static void test_second_ramp_replaces_first(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	rig_run_until(r, SEC);
	int64_t t_l = r->now;
	assert_int_equal(thermal(r)->ramp(&r->dev, 40.0, 1.0, 0.0, 1.0), QST_OK);
	rig_pump(r, t_l);
	rig_run_until(r, t_l + 3 * SEC);
	double at_press = qst_tcs2_sim_plate_c(r->sim);
	assert_true(fabs(at_press - 35.0) < 0.1);
	r->n_ev = 0;
	int64_t t2 = r->now;
	assert_int_equal(thermal(r)->ramp(&r->dev, 32.0, 2.0, 0.0, 2.0), QST_OK);
	rig_pump(r, t2);
	rig_run_until(r, t2 + 5 * SEC);
	assert_false(qst_tcs2_sim_stimulating(r->sim));
	double prev = 99;
	size_t n = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_TEMPERATURE)
			continue;
		double el = qst_ns_to_s(e->t_ns - t2);
		double got = mean_zone(e);
		assert_true(got < at_press + 0.15);
		double want = fmax(32.0, at_press - 2.0 * el);
		if (fabs(got - want) > 0.25)
			fail_msg("at %.3f s read %.2f, want %.2f", el, got, want);
		if (el > 0.1 && el < 1.4)
			assert_true(got < prev + 0.1);
		prev = got;
		n++;
	}
	/* ~1.5 s of 100 Hz lines, then 1 Hz: far fewer than 5 s at 100 Hz */
	assert_true(n > 140 && n < 170);
}

static void test_abort_returns_to_neutral(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	rig_run_until(r, SEC);
	int64_t t_l = r->now;
	assert_int_equal(thermal(r)->ramp(&r->dev, 44.0, 1.0, 5.0, 1.0), QST_OK);
	rig_pump(r, t_l);
	rig_run_until(r, t_l + 2 * SEC);
	double at_abort = qst_tcs2_sim_plate_c(r->sim);
	assert_true(fabs(at_abort - 34.0) < 0.1);
	r->n_ev = 0;
	int64_t ta = r->now;
	assert_int_equal(thermal(r)->abort(&r->dev), QST_OK);
	rig_pump(r, ta);
	rig_run_until(r, ta + 2200 * MS);
	assert_false(qst_tcs2_sim_stimulating(r->sim));
	assert_true(fabs(qst_tcs2_sim_plate_c(r->sim) - 32.0) < 0.05);
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_TEMPERATURE)
			continue;
		double el = qst_ns_to_s(e->t_ns - ta);
		double want = fmax(32.0, at_abort - 1.0 * el);
		assert_true(mean_zone(e) < at_abort + 0.15);
		if (fabs(mean_zone(e) - want) > 0.2)
			fail_msg("at %.3f s read %.2f, want %.2f", el,
				 mean_zone(e), want);
	}
}

static bool far_end_empty(struct rig *r)
{
	uint8_t b;
	ssize_t n = recv(r->far_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_refusals_send_nothing(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	assert_true(far_end_empty(r));
	struct qst_dev *d = &r->dev;
	assert_int_equal(thermal(r)->ramp(d, 61.0, 1, 0, 1), QST_ERR_ARG);
	assert_int_equal(thermal(r)->ramp(d, -0.1, 1, 0, 1), QST_ERR_ARG);
	assert_int_equal(thermal(r)->ramp(d, 40, 0.01, 0, 1), QST_ERR_ARG);
	assert_int_equal(thermal(r)->ramp(d, 40, 1000, 0, 1), QST_ERR_ARG);
	assert_int_equal(thermal(r)->ramp(d, 40, 1, 0, 0), QST_ERR_ARG);
	assert_int_equal(thermal(r)->ramp(d, 40, 1, -1, 1), QST_ERR_ARG);
	assert_int_equal(thermal(r)->ramp(d, 40, 1, NAN, 1), QST_ERR_ARG);
	assert_int_equal(thermal(r)->ramp(d, NAN, 1, 0, 1), QST_ERR_ARG);
	/* (40 − 32) / 0.1 = 80 s rise + 30 s hold > 99.999 s */
	assert_int_equal(thermal(r)->ramp(d, 40, 0.1, 30, 1), QST_ERR_ARG);
	assert_int_equal(thermal(r)->set_neutral(d, 45), QST_ERR_ARG);
	assert_int_equal(thermal(r)->set_neutral(d, 19.9), QST_ERR_ARG);
	assert_int_equal(thermal(r)->set_max(d, 70), QST_ERR_ARG);
	assert_true(far_end_empty(r));
	/* ...whereas the longest legal one goes out */
	assert_int_equal(thermal(r)->ramp(d, 40, 0.1, 19, 1), QST_OK);
	assert_false(far_end_empty(r));
	char got[64] = { 0 };
	assert_int_equal(recv(r->far_fd, got, sizeof(got) - 1, MSG_DONTWAIT), 25);
	/* D = rise from the noisy readback (~80 s) + 19 s hold, in ms */
	assert_memory_equal(got, "C0400V00001R00010D0", 19);
	assert_int_equal(got[24], 'L');
	assert_in_range(atoi(got + 19) / 10, 9850, 9900);
}

/* Om clamps targets at the device: a second line behind the supervisor. */
static void test_sim_clamps_at_max(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	assert_int_equal(thermal(r)->set_max(&r->dev, 36.0), QST_OK);
	rig_pump(r, r->now);
	int64_t t_l = r->now;
	assert_int_equal(thermal(r)->ramp(&r->dev, 40.0, 10.0, 1.0, 10.0), QST_OK);
	rig_pump(r, t_l);
	double peak = 0;
	while (r->now < t_l + 3 * SEC) {
		rig_run_until(r, r->now + 10 * MS);
		peak = fmax(peak, qst_tcs2_sim_plate_c(r->sim));
	}
	assert_true(peak > 35.9 && peak < 36.05);
}

/* Physical slew limit: a 300 °C/s command heats at max_heat (70 °C/s). */
static void test_sim_slew_limit(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	int64_t t_l = r->now;
	assert_int_equal(thermal(r)->ramp(&r->dev, 46.0, 300.0, 1.0, 300.0),
			 QST_OK);
	rig_pump(r, t_l);
	rig_run_until(r, t_l + 100 * MS);
	double after_100ms = qst_tcs2_sim_plate_c(r->sim);
	assert_true(after_100ms <= 32.0 + 7.0 + 1e-6);
	assert_true(after_100ms > 32.0 + 4.0);
}


/* ------------------------------------- read-back, error state, buttons */

static void test_parse_params(void **state)
{
	(void)state;
	struct qst_tcs2_params_line l;
	/* T-WL2's example header (devices.md §1.3) */
	assert_int_equal(qst_tcs2_parse_params("N320 T255 I1 Y0000 S11111", &l),
			 QST_OK);
	assert_int_equal(l.kind, QST_TCS2_PARAM_HEADER);
	assert_int_equal(l.neutral, 320);
	assert_int_equal(l.zone_mask, 0x1f);
	/* tolerant: other spacing, order, unknown fields, no S */
	assert_int_equal(qst_tcs2_parse_params("  S10100\tN305  Q7 T1 ", &l),
			 QST_OK);
	assert_int_equal(l.kind, QST_TCS2_PARAM_HEADER);
	assert_int_equal(l.neutral, 305);
	assert_int_equal(l.zone_mask, 0x05); /* zone 1 and zone 3 */
	assert_int_equal(qst_tcs2_parse_params("N320 T255", &l), QST_OK);
	assert_int_equal(l.zone_mask, -1);
	assert_int_equal(qst_tcs2_parse_params("C450 V100 R20 D1500", &l), QST_OK);
	assert_int_equal(l.kind, QST_TCS2_PARAM_ZONE);
	assert_int_equal(l.target, 450);
	assert_int_equal(l.rise, 100);
	assert_int_equal(l.back, 20);
	assert_int_equal(l.duration, 1500);
	assert_int_equal(qst_tcs2_parse_params("D99999 R1 V9999 C0", &l), QST_OK);
	assert_int_equal(l.target, 0);
	assert_int_equal(l.duration, 99999);
	const char *bad[] = { "N320", /* the reply to `G`, not `P` */
			      "C450 V100 R20", "Csxxx: stimulation temperature",
			      "Probe TYPE: 003", "TCS", "00", "000000", "",
			      "N320 S1111", "N320 S11121", "N3a0 T255",
			      "C450 V100 R20 D1500 N320", "N320 T255 I1 Y0000 S11111 C4" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qst_tcs2_parse_params(bad[i], &l) != QST_ERR_DATA)
			fail_msg("accepted \"%s\"", bad[i]);
	char b[QST_TCS2_LINE_MAX];
	assert_int_equal(qst_tcs2_format_params_header(b, sizeof(b), 320, 0x15),
			 25);
	assert_string_equal(b, "N320 T255 I1 Y0000 S10101");
	assert_true(qst_tcs2_format_params_zone(b, sizeof(b), 450, 15, 100, 2500) > 0);
	assert_string_equal(b, "C450 V15 R100 D2500");
}

static void test_parse_errors_and_buttons(void **state)
{
	(void)state;
	int c[QST_TCS2_ERROR_FIELDS];
	assert_int_equal(qst_tcs2_parse_errors("000000", c), QST_OK);
	for (int i = 0; i < QST_TCS2_ERROR_FIELDS; i++)
		assert_int_equal(c[i], 0);
	assert_int_equal(qst_tcs2_parse_errors(" 200030 ", c), QST_OK);
	assert_int_equal(c[0], 2);
	assert_int_equal(c[4], 3);
	assert_int_equal(c[5], 0);
	const char *bad_q[] = { "00000", "0000000", "00a000", "00 000", "", "N320" };
	for (size_t i = 0; i < sizeof(bad_q) / sizeof(bad_q[0]); i++)
		assert_int_equal(qst_tcs2_parse_errors(bad_q[i], c), QST_ERR_DATA);
	unsigned k;
	assert_int_equal(qst_tcs2_parse_buttons("00", &k), QST_OK);
	assert_int_equal(k, 0);
	assert_int_equal(qst_tcs2_parse_buttons("10", &k), QST_OK);
	assert_int_equal(k, 1); /* button 1 ("stim") only, devices.md §1.3 */
	assert_int_equal(qst_tcs2_parse_buttons("01", &k), QST_OK);
	assert_int_equal(k, 2);
	assert_int_equal(qst_tcs2_parse_buttons(" 11", &k), QST_OK);
	assert_int_equal(k, 3);
	const char *bad_k[] = { "0", "000", "02", "1x", "", "TCS" };
	for (size_t i = 0; i < sizeof(bad_k) / sizeof(bad_k[0]); i++)
		assert_int_equal(qst_tcs2_parse_buttons(bad_k[i], &k), QST_ERR_DATA);
}

/* `Og`: an `E` line, whitespace (space or LF), the `K` characters. */
static void test_parser_og_reply(void **state)
{
	(void)state;
	static const char og[] = "\r320+321+322+323+324+325 10"
				 "\r320+321+322+323+324+325\n01"
				 "\r320+320+320+320+320+320\t 11\r";
	const struct want w[] = {
		{ QST_TCS2_ITEM_FRAME, NULL, { 320, 321, 322, 323, 324, 325 } },
		{ QST_TCS2_ITEM_TEXT, "10", { 0 } },
		{ QST_TCS2_ITEM_FRAME, NULL, { 320, 321, 322, 323, 324, 325 } },
		{ QST_TCS2_ITEM_TEXT, "01", { 0 } },
		{ QST_TCS2_ITEM_FRAME, NULL, { 320, 320, 320, 320, 320, 320 } },
		{ QST_TCS2_ITEM_TEXT, " 11", { 0 } },
	};
	size_t len = sizeof(og) - 1;
	struct got g;
	for (size_t c = 1; c < len; c++) {
		parse_with_cuts((const uint8_t *)og, len, &c, 1, &g);
		check_items(&g, w, sizeof(w) / sizeof(w[0]));
	}
	struct qst_tcs2_parser p;
	qst_tcs2_parser_init(&p);
	memset(&g, 0, sizeof(g));
	feed_chunk(&p, &g, (const uint8_t *)og, len);
	assert_int_equal(p.noise_bytes, 0);
}

/* The driver over a pipe whose far end the test plays by transcript. */
struct tx {
	struct qst_transport *transport;
	int far_fd;
	struct qst_dev dev;
	struct qst_event ev[256];
	size_t n_ev;
};

static void tx_collect(const struct qst_event *ev, void *user)
{
	struct tx *x = user;
	if (x->n_ev < 256)
		x->ev[x->n_ev++] = *ev;
}

/* What the driver wrote since the last call, as one string. */
static const char *tx_sent(struct tx *x)
{
	static char buf[512];
	ssize_t n = recv(x->far_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/*
 * Lines are CR-prefixed, so the last one ends only when the next begins
 * (devices.md §1.2): a lone CR stands for whatever the device says next.
 */
static void tx_device_says(struct tx *x, const char *bytes, int64_t t)
{
	x->dev.driver->receive(&x->dev, (const uint8_t *)bytes, strlen(bytes), t);
	x->dev.driver->receive(&x->dev, (const uint8_t *)"\r", 1, t);
}

static const char params_ok[] =
	"\rN320 T255 I1 Y0000 S11111"
	"\rC320 V10 R10 D1000\rC320 V10 R10 D1000\rC320 V10 R10 D1000"
	"\rC320 V10 R10 D1000\rC320 V10 R10 D1000";
static const char params_n300[] =
	"\rN300 T255 I1 Y0000 S11111"
	"\rC320 V10 R10 D1000\rC320 V10 R10 D1000\rC320 V10 R10 D1000"
	"\rC320 V10 R10 D1000\rC320 V10 R10 D1000";

static size_t tx_count(const struct tx *x, enum qst_event_type type)
{
	size_t n = 0;
	for (size_t i = 0; i < x->n_ev; i++)
		n += x->ev[i].type == type;
	return n;
}

static const struct qst_event *tx_last(const struct tx *x,
				       enum qst_event_type type)
{
	for (size_t i = x->n_ev; i-- > 0;)
		if (x->ev[i].type == type)
			return &x->ev[i];
	return NULL;
}

/* The fault's text holds want (f may be NULL: then it fails). */
static void assert_fault_says(const struct qst_event *f, const char *want)
{
	if (!f)
		fail_msg("no fault, expected \"%s\"", want);
	else if (!strstr(f->u.text, want))
		fail_msg("fault \"%s\", expected \"%s\"", f->u.text, want);
}

static int tx_setup(void **state)
{
	struct tx *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	assert_int_equal(qst_transport_pipe_open("tcs2-tx", &x->transport,
						 &x->far_fd), QST_OK);
	x->dev.driver = qst_driver_find("tcs2");
	x->dev.transport = x->transport;
	x->dev.sink.fn = tx_collect;
	x->dev.sink.user = x;
	assert_int_equal(x->dev.driver->open(&x->dev), QST_OK);
	/* open asks `P` after `H`, `?`, `E` (nothing set yet to compare) */
	assert_string_equal(tx_sent(x), "H?EP");
	tx_device_says(x, "\rFirmware: 012 Jun 20 2022 11:07:51"
			  "\r320+320+320+320+320+320", 0);
	tx_device_says(x, params_ok, 0);
	assert_true(x->dev.driver->ready(&x->dev));
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 0);
	x->n_ev = 0;
	*state = x;
	return 0;
}

static int tx_teardown(void **state)
{
	struct tx *x = *state;
	x->dev.driver->close(&x->dev);
	qst_transport_close(x->transport);
	free(x);
	return 0;
}

/* A read-back that disagrees twice in a row is a fault naming both values. */
static void test_readback_mismatch_is_fault(void **state)
{
	struct tx *x = *state;
	const struct qst_thermal_ops *th = qst_dev_thermal(&x->dev);
	assert_int_equal(th->set_neutral(&x->dev, 32.0), QST_OK);
	assert_string_equal(tx_sent(x), "N320P");
	tx_device_says(x, params_n300, SEC);
	/* asked again, no fault yet: one garbled line must not end a session */
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 0);
	assert_string_equal(tx_sent(x), "P");
	tx_device_says(x, params_n300, 2 * SEC);
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 1);
	const struct qst_event *f = tx_last(x, QST_EV_DEVICE_FAULT);
	assert_fault_says(f, "neutral is 30.0 °C, set 32.0 °C");
	assert_int_equal(f ? f->t_ns : -1, 2 * SEC);
	assert_string_equal(tx_sent(x), "");
}

static void test_readback_garbled_once_is_no_fault(void **state)
{
	struct tx *x = *state;
	const struct qst_thermal_ops *th = qst_dev_thermal(&x->dev);
	assert_int_equal(th->set_neutral(&x->dev, 32.0), QST_OK);
	assert_string_equal(tx_sent(x), "N320P");
	tx_device_says(x, params_n300, SEC);
	assert_string_equal(tx_sent(x), "P");
	tx_device_says(x, params_ok, SEC);
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 0);
	assert_string_equal(tx_sent(x), "");
	/* the next disagreement is asked again too, not a fault at once */
	assert_int_equal(qst_tcs2_verify(&x->dev), QST_OK);
	assert_string_equal(tx_sent(x), "P");
	tx_device_says(x, params_n300, SEC);
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 0);
	assert_string_equal(tx_sent(x), "P");
}

/* Ramp values are checked at the next poll, not on the ramp's path. */
static void test_ramp_verified_at_poll(void **state)
{
	struct tx *x = *state;
	const struct qst_thermal_ops *th = qst_dev_thermal(&x->dev);
	assert_int_equal(x->dev.driver->poll(&x->dev, 0), SEC);
	assert_string_equal(tx_sent(x), "Q");
	tx_device_says(x, "\r000000", 0);
	assert_int_equal(th->ramp(&x->dev, 40.0, 1.0, 0.0, 2.0), QST_OK);
	const char *ramp = tx_sent(x);
	/* D = 8 s rise from the 32.0 °C readback, no hold */
	assert_string_equal(ramp, "C0400V00010R00020D008000L");
	assert_null(strchr(ramp, 'P'));
	/* between checks poll sends nothing */
	x->dev.driver->poll(&x->dev, 3 * SEC);
	assert_string_equal(tx_sent(x), "");
	x->dev.driver->poll(&x->dev, 5 * SEC);
	assert_string_equal(tx_sent(x), "QP");
	/* the device shows zone 4 at 1.5 °C/s instead of 1.0: twice = fault */
	static const char reply[] =
		"\rN320 T255 I1 Y0000 S11111"
		"\rC400 V10 R20 D8000\rC400 V10 R20 D8000\rC400 V10 R20 D8000"
		"\rC400 V15 R20 D8000\rC400 V10 R20 D8000";
	tx_device_says(x, "\r000000", 5 * SEC);
	tx_device_says(x, reply, 5 * SEC);
	assert_string_equal(tx_sent(x), "P");
	tx_device_says(x, reply, 5 * SEC);
	assert_fault_says(tx_last(x, QST_EV_DEVICE_FAULT),
			  "zone 4 rise rate is 1.5 °C/s, set 1.0 °C/s");
}

/* `Q`: a non-OK state is asked again, then one fault naming it. */
static void test_error_state_is_fault(void **state)
{
	struct tx *x = *state;
	x->dev.driver->poll(&x->dev, 0);
	assert_string_equal(tx_sent(x), "Q");
	tx_device_says(x, "\r000300", 10 * MS);
	assert_string_equal(tx_sent(x), "Q");
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 0);
	tx_device_says(x, "\r000300", 20 * MS);
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 1);
	assert_fault_says(tx_last(x, QST_EV_DEVICE_FAULT),
			  "TCS II error state Q=000300: zone 3 error 3");
	/* the same state at the next check is not a new fault */
	x->dev.driver->poll(&x->dev, 5 * SEC);
	assert_string_equal(tx_sent(x), "Q");
	tx_device_says(x, "\r000300", 5 * SEC);
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 1);
	assert_string_equal(tx_sent(x), "");
	/* cleared, then a different one */
	tx_device_says(x, "\r000000", 6 * SEC);
	tx_device_says(x, "\r200000", 7 * SEC);
	assert_string_equal(tx_sent(x), "Q");
	tx_device_says(x, "\r200000", 7 * SEC);
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 2);
	assert_fault_says(tx_last(x, QST_EV_DEVICE_FAULT),
			  "TCS II error state Q=200000: neutral error 2");
	/* a different non-OK answer in between starts over: no fault */
	tx_device_says(x, "\r000000", 8 * SEC);
	tx_device_says(x, "\r010000", 8 * SEC);
	tx_device_says(x, "\r001000", 8 * SEC);
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 2);
}

static void test_buttons_from_k(void **state)
{
	struct tx *x = *state;
	assert_int_equal(qst_tcs2_set_button_poll(&x->dev, 50), QST_OK);
	assert_int_equal(x->dev.driver->poll(&x->dev, 0), 50 * MS);
	assert_string_equal(tx_sent(x), "QK");
	tx_device_says(x, "\r000000\r00", 5 * MS);
	assert_int_equal(tx_count(x, QST_EV_BUTTON), 0);
	x->dev.driver->poll(&x->dev, 50 * MS);
	assert_string_equal(tx_sent(x), "K");
	tx_device_says(x, "\r10", 55 * MS);
	x->dev.driver->poll(&x->dev, 100 * MS);
	tx_device_says(x, "\r11", 105 * MS);
	tx_device_says(x, "\r01", 155 * MS);
	/* `Og` carries the same state after its temperature line */
	tx_device_says(x, "\r320+320+320+320+320+320 00", 205 * MS);
	const int want_key[] = { 1, 2, 1, 2 };
	const bool want_pressed[] = { true, true, false, false };
	const int64_t want_t[] = { 55 * MS, 105 * MS, 155 * MS, 205 * MS };
	size_t k = 0;
	for (size_t i = 0; i < x->n_ev; i++) {
		if (x->ev[i].type != QST_EV_BUTTON)
			continue;
		assert_true(k < 4);
		assert_int_equal(x->ev[i].u.button.key, want_key[k]);
		assert_int_equal(x->ev[i].u.button.pressed, want_pressed[k]);
		assert_int_equal(x->ev[i].u.button.device_rt_ms, -1);
		assert_int_equal(x->ev[i].t_ns, want_t[k]);
		k++;
	}
	assert_int_equal(k, 4);
	tx_sent(x);
	assert_int_equal(qst_tcs2_set_button_poll(&x->dev, 0), QST_OK);
	x->dev.driver->poll(&x->dev, 300 * MS);
	assert_string_equal(tx_sent(x), "");
	assert_int_equal(qst_tcs2_set_button_poll(&x->dev, -1), QST_ERR_ARG);
}

static void test_zones_targets_quiet(void **state)
{
	struct tx *x = *state;
	assert_int_equal(qst_tcs2_set_zones(&x->dev, 0x15), QST_OK);
	assert_string_equal(tx_sent(x), "S10101P");
	/* a `P` is out: the next one waits for its reply */
	assert_int_equal(qst_tcs2_set_zone_target(&x->dev, 3, 45.0), QST_OK);
	assert_string_equal(tx_sent(x), "C3450");
	tx_device_says(x, "\rN320 T255 I1 Y0000 S10101"
			  "\rC320 V10 R10 D1000\rC320 V10 R10 D1000\rC320 V10 R10 D1000"
			  "\rC320 V10 R10 D1000\rC320 V10 R10 D1000", SEC);
	assert_string_equal(tx_sent(x), "P");
	tx_device_says(x, "\rN320 T255 I1 Y0000 S10101"
			  "\rC320 V10 R10 D1000\rC320 V10 R10 D1000\rC450 V10 R10 D1000"
			  "\rC320 V10 R10 D1000\rC320 V10 R10 D1000", SEC);
	assert_int_equal(tx_count(x, QST_EV_DEVICE_FAULT), 0);
	/* the mask shown wrong twice is a fault */
	assert_int_equal(qst_tcs2_verify(&x->dev), QST_OK);
	assert_string_equal(tx_sent(x), "P");
	for (int i = 0; i < 2; i++)
		tx_device_says(x, "\rN320 T255 I1 Y0000 S11111"
				  "\rC320 V10 R10 D1000\rC320 V10 R10 D1000"
				  "\rC450 V10 R10 D1000\rC320 V10 R10 D1000"
				  "\rC320 V10 R10 D1000", 2 * SEC);
	assert_fault_says(tx_last(x, QST_EV_DEVICE_FAULT),
			  "TCS II read-back: zones enabled S11111, set S10101");
	tx_sent(x);
	assert_int_equal(qst_tcs2_set_zone_target(&x->dev, 0, 30.0), QST_OK);
	assert_string_equal(tx_sent(x), "C0300P");
	assert_int_equal(qst_tcs2_set_quiet(&x->dev, true), QST_OK);
	assert_string_equal(tx_sent(x), "F");
	assert_int_equal(qst_tcs2_set_quiet(&x->dev, false), QST_OK);
	assert_string_equal(tx_sent(x), "OaOb");
	/* refusals send nothing */
	assert_int_equal(qst_tcs2_set_zones(&x->dev, 0x20), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_set_zone_target(&x->dev, 6, 40.0), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_set_zone_target(&x->dev, 1, 60.1), QST_ERR_ARG);
	assert_int_equal(qst_tcs2_set_zone_target(&x->dev, -1, 40.0), QST_ERR_ARG);
	assert_string_equal(tx_sent(x), "");
	/* not a tcs2 device */
	struct qst_dev other = { .driver = qst_driver_find("xid") };
	assert_int_equal(qst_tcs2_set_quiet(&other, true), QST_ERR_STATE);
}

/* ------------------------------------ the same against the simulator */

/* As rig_run_until, with the driver's poll() called when due. */
static void rig_run_polled(struct rig *r, int64_t end, int64_t *poll_due)
{
	while (r->now < end) {
		if (r->now >= *poll_due)
			*poll_due = r->dev.driver->poll(&r->dev, r->now);
		int64_t t = qst_tcs2_sim_next_due(r->sim);
		if (t <= r->now)
			t = r->now + 1000;
		t = t < *poll_due ? t : *poll_due;
		if (t > end)
			t = end;
		rig_pump(r, t);
	}
}

static size_t rig_count(const struct rig *r, enum qst_event_type type)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_ev; i++)
		n += r->ev[i].type == type;
	return n;
}

/* Setters, a ramp and the polled checks against the simulator: no fault. */
static void test_sim_readback_agrees(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	int64_t due = 0;
	assert_int_equal(qst_tcs2_set_zones(&r->dev, 0x1b), QST_OK);
	assert_int_equal(qst_tcs2_set_zone_target(&r->dev, 2, 41.0), QST_OK);
	rig_run_polled(r, 2 * SEC, &due);
	assert_int_equal(thermal(r)->ramp(&r->dev, 40.0, 2.0, 1.0, 2.0), QST_OK);
	rig_run_polled(r, 20 * SEC, &due);
	assert_int_equal(rig_count(r, QST_EV_DEVICE_FAULT), 0);
	/* the `P` replies were read: header lines came back */
	size_t headers = 0;
	for (size_t i = 0; i < r->n_ev; i++)
		headers += r->ev[i].type == QST_EV_DEVICE_TEXT &&
			   strncmp(r->ev[i].u.text, "N320 ", 5) == 0;
	assert_true(headers >= 3);
	assert_false(qst_tcs2_sim_stimulating(r->sim));
}

static void test_sim_error_state(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	int64_t due = 0;
	rig_run_polled(r, 6 * SEC, &due);
	assert_int_equal(rig_count(r, QST_EV_DEVICE_FAULT), 0);
	assert_int_equal(qst_tcs2_sim_set_error(r->sim, 4, 5), QST_OK);
	assert_int_equal(qst_tcs2_sim_set_error(r->sim, 6, 1), QST_ERR_ARG);
	/* `Q` at 10 s, its line ends with the next (1 Hz) line, asked again */
	rig_run_polled(r, 14 * SEC, &due);
	assert_int_equal(rig_count(r, QST_EV_DEVICE_FAULT), 1);
	for (size_t i = 0; i < r->n_ev; i++)
		if (r->ev[i].type == QST_EV_DEVICE_FAULT)
			assert_string_equal(r->ev[i].u.text,
					    "TCS II error state Q=000050: zone 4 error 5");
}

static void test_sim_button_press(void **state)
{
	struct rig *r = *state;
	rig_open(r);
	int64_t due = 0;
	assert_int_equal(qst_tcs2_set_button_poll(&r->dev, 20), QST_OK);
	assert_int_equal(qst_tcs2_sim_press_button(r->sim, 500 * MS, 2), QST_OK);
	assert_int_equal(qst_tcs2_sim_press_button(r->sim, 1000 * MS, 1), QST_OK);
	assert_int_equal(qst_tcs2_sim_press_button(r->sim, 0, 3), QST_ERR_ARG);
	rig_run_polled(r, 2 * SEC, &due);
	const int want_key[] = { 2, 2, 1, 1 };
	const bool want_pressed[] = { true, false, true, false };
	const int64_t want_t[] = { 500 * MS, 650 * MS, 1000 * MS, 1150 * MS };
	size_t k = 0;
	for (size_t i = 0; i < r->n_ev; i++) {
		const struct qst_event *e = &r->ev[i];
		if (e->type != QST_EV_BUTTON)
			continue;
		assert_true(k < 4);
		assert_int_equal(e->u.button.key, want_key[k]);
		assert_int_equal(e->u.button.pressed, want_pressed[k]);
		/*
		 * seen at the first `K` after the change, and its reply line
		 * ends when the next line begins (the next `K`'s): 40 ms
		 */
		assert_in_range(e->t_ns, want_t[k], want_t[k] + 40 * MS);
		k++;
	}
	assert_int_equal(k, 4);
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_commands),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_frame_format_and_parse),
		cmocka_unit_test(test_parser_every_split),
		cmocka_unit_test(test_parser_random_chunks_and_merged),
		cmocka_unit_test(test_parser_garbage),
		cmocka_unit_test(test_parse_params),
		cmocka_unit_test(test_parse_errors_and_buttons),
		cmocka_unit_test(test_parser_og_reply),
		cmocka_unit_test_setup_teardown(test_readback_mismatch_is_fault,
						tx_setup, tx_teardown),
		cmocka_unit_test_setup_teardown(test_readback_garbled_once_is_no_fault,
						tx_setup, tx_teardown),
		cmocka_unit_test_setup_teardown(test_ramp_verified_at_poll,
						tx_setup, tx_teardown),
		cmocka_unit_test_setup_teardown(test_error_state_is_fault,
						tx_setup, tx_teardown),
		cmocka_unit_test_setup_teardown(test_buttons_from_k, tx_setup,
						tx_teardown),
		cmocka_unit_test_setup_teardown(test_zones_targets_quiet,
						tx_setup, tx_teardown),
		cmocka_unit_test_setup_teardown(test_sim_readback_agrees,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_error_state, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_button_press, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_open_identifies, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_ramp_before_readback_refused,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_ramp_tracks_profile,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_second_ramp_replaces_first,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_abort_returns_to_neutral,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_refusals_send_nothing,
						rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_clamps_at_max, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_sim_slew_limit, rig_setup,
						rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
