/*
 * Cedrus XID: key packet codec, the stream parser (splits, garbage,
 * resync) and the real driver against the simulated pad over a pipe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/xid/protocol.h"
#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_sim.h"

#define MS QST_NS_PER_MS

/* ------------------------------------------------------------ packet codec */

static void test_decode_key_packets(void **state)
{
	(void)state;
	struct qst_xid_key k;
	/* key 1 pressed, port 0, RT 437 ms = 0x01b5 little-endian */
	const uint8_t p1[6] = { 'k', 0x30, 0xb5, 0x01, 0x00, 0x00 };
	assert_int_equal(qst_xid_decode_key(p1, &k), QST_OK);
	assert_int_equal(k.key, 1);
	assert_int_equal(k.port, 0);
	assert_true(k.pressed);
	assert_int_equal(k.rt_ms, 437);
	/* wire key 0 means key 8 (devices.md §3.4); release; port 1 */
	const uint8_t p8[6] = { 'k', 0x01, 0x10, 0x27, 0x00, 0x00 };
	assert_int_equal(qst_xid_decode_key(p8, &k), QST_OK);
	assert_int_equal(k.key, 8);
	assert_int_equal(k.port, 1);
	assert_false(k.pressed);
	assert_int_equal(k.rt_ms, 10000);
	/* key 7 pressed, RT spanning three bytes */
	const uint8_t p7[6] = { 'k', 0xf0, 0x56, 0x34, 0x12, 0x00 };
	assert_int_equal(qst_xid_decode_key(p7, &k), QST_OK);
	assert_int_equal(k.key, 7);
	assert_true(k.pressed);
	assert_int_equal(k.rt_ms, 0x123456);
	/* impossible packets */
	const uint8_t bad_port[6] = { 'k', 0x34, 0, 0, 0, 0 };
	assert_int_equal(qst_xid_decode_key(bad_port, &k), QST_ERR_DATA);
	const uint8_t bad_port2[6] = { 'k', 0x38, 0, 0, 0, 0 };
	assert_int_equal(qst_xid_decode_key(bad_port2, &k), QST_ERR_DATA);
	const uint8_t bad_rt[6] = { 'k', 0x30, 0, 0, 0, 0x01 };
	assert_int_equal(qst_xid_decode_key(bad_rt, &k), QST_ERR_DATA);
	const uint8_t not_k[6] = { 'K', 0x30, 0, 0, 0, 0 };
	assert_int_equal(qst_xid_decode_key(not_k, &k), QST_ERR_DATA);
}

static void test_encode_roundtrip(void **state)
{
	(void)state;
	for (int key = 1; key <= 8; key++)
		for (int pressed = 0; pressed <= 1; pressed++) {
			struct qst_xid_key in = { .port = key % 2, .key = key,
						  .pressed = pressed,
						  .rt_ms = 1000u * key + 7 };
			uint8_t pkt[6];
			assert_int_equal(qst_xid_encode_key(&in, pkt), QST_OK);
			assert_int_equal(pkt[0], 'k');
			assert_int_equal(pkt[1] >> 5, key % 8);
			assert_int_equal((pkt[1] >> 4) & 1, pressed);
			struct qst_xid_key out;
			assert_int_equal(qst_xid_decode_key(pkt, &out), QST_OK);
			assert_int_equal(out.port, in.port);
			assert_int_equal(out.key, in.key);
			assert_int_equal(out.pressed, in.pressed);
			assert_int_equal(out.rt_ms, in.rt_ms);
		}
	struct qst_xid_key bad = { .key = 9 };
	uint8_t pkt[6];
	assert_int_equal(qst_xid_encode_key(&bad, pkt), QST_ERR_ARG);
	bad.key = 0;
	assert_int_equal(qst_xid_encode_key(&bad, pkt), QST_ERR_ARG);
	bad.key = 1;
	bad.port = 4;
	assert_int_equal(qst_xid_encode_key(&bad, pkt), QST_ERR_ARG);
}

/* ----------------------------------------------------------------- parser */

struct got {
	struct qst_xid_item items[32];
	size_t n;
};

static void feed_chunk(struct qst_xid_parser *p, struct got *g,
		       const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		struct qst_xid_item it;
		size_t n = qst_xid_parser_feed(p, buf + off, len - off, &it);
		assert_true(n > 0 && n <= len - off);
		off += n;
		if (it.type != QST_XID_ITEM_NONE) {
			assert_true(g->n < 32);
			g->items[g->n++] = it;
		}
	}
}

static void parse_split(const uint8_t *buf, size_t len, size_t cut,
			struct got *g, struct qst_xid_parser *p)
{
	qst_xid_parser_init(p);
	memset(g, 0, sizeof(*g));
	feed_chunk(p, g, buf, cut);
	feed_chunk(p, g, buf + cut, len - cut);
}

/*
 * Garbage with no 'k' or '_', a false 'k' whose next byte has port bits
 * 2-3 set, a '_' that is not "_xid", and a truncated packet whose tail
 * would put a non-zero top RT byte in the window: all skipped.
 */
static const uint8_t stream[] = {
	'_', 'x', 'i', 'd', '0',
	0x00, 0xff, 0x13, 'z',
	'k', 0x30, 0xb5, 0x01, 0x00, 0x00,
	'k', 0x0c,
	'k', 0x01, 0x10, 0x27, 0x00, 0x00,
	'_', 'q',
	'k', 0xf0, 0x56, 0x34, 0x12, 0x00,
	'k', 0x30, 0x01, 0x02, 0x03, 0x04,
	'k', 0x40, 0x05, 0x00, 0x00, 0x00,
};

static void check_stream_items(const struct got *g)
{
	assert_int_equal(g->n, 5);
	assert_int_equal(g->items[0].type, QST_XID_ITEM_PROTOCOL);
	assert_int_equal(g->items[0].protocol, 0);
	const int keys[] = { 1, 8, 7, 2 };
	const bool pressed[] = { true, false, true, false };
	const uint32_t rt[] = { 437, 10000, 0x123456, 5 };
	for (int i = 0; i < 4; i++) {
		const struct qst_xid_item *it = &g->items[1 + i];
		assert_int_equal(it->type, QST_XID_ITEM_KEY);
		assert_int_equal(it->key.key, keys[i]);
		assert_int_equal(it->key.pressed, pressed[i]);
		assert_int_equal(it->key.rt_ms, rt[i]);
	}
}

static void test_parser_resync_and_splits(void **state)
{
	(void)state;
	struct got g;
	struct qst_xid_parser p;
	for (size_t cut = 0; cut <= sizeof(stream); cut++) {
		parse_split(stream, sizeof(stream), cut, &g, &p);
		check_stream_items(&g);
	}
	assert_true(p.garbage > 0);
	assert_int_equal(p.packets, 5);
	qst_xid_parser_init(&p);
	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < sizeof(stream); i++)
		feed_chunk(&p, &g, stream + i, 1);
	check_stream_items(&g);
}

/* ------------------------------------------------------ driver + simulator */

struct rig {
	struct qst_transport *transport;
	struct qst_xid_sim *sim;
	struct qst_dev dev;
	struct qst_event ev[64];
	size_t n_ev;
	int64_t now;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct rig *r = user;
	if (r->n_ev < 64)
		r->ev[r->n_ev++] = *ev;
}

static void rig_pump(struct rig *r, int64_t t)
{
	qst_xid_sim_step(r->sim, t);
	uint8_t buf[64];
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
		int64_t t = qst_xid_sim_next_due(r->sim);
		if (t <= r->now)
			t = r->now + 1000;
		if (t > end)
			t = end;
		rig_pump(r, t);
	}
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	int far;
	assert_int_equal(qst_transport_pipe_open("xid-test", &r->transport, &far),
			 QST_OK);
	assert_int_equal(qst_xid_sim_new(far, 0, &r->sim), QST_OK);
	r->dev.driver = qst_driver_find("xid");
	assert_non_null(r->dev.driver);
	r->dev.transport = r->transport;
	r->dev.index = 1;
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
	qst_xid_sim_free(r->sim);
	free(r);
	return 0;
}

static void test_probe_and_ready(void **state)
{
	struct rig *r = *state;
	assert_int_equal(r->dev.driver->dev_class, QST_DEV_RESPONSE);
	assert_null(qst_dev_thermal(&r->dev));
	assert_false(r->dev.driver->ready(&r->dev));
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	assert_false(r->dev.driver->ready(&r->dev));
	rig_pump(r, 5 * MS);
	assert_true(r->dev.driver->ready(&r->dev));
	assert_string_equal(r->dev.info.model, "Cedrus XID response pad");
	assert_int_equal(r->n_ev, 1);
	assert_int_equal(r->ev[0].type, QST_EV_DEVICE_TEXT);
	assert_string_equal(r->ev[0].u.text, "_xid0");
	assert_int_equal(r->ev[0].device, 1);
}

static void test_reset_then_press_reports_rt(void **state)
{
	struct rig *r = *state;
	assert_int_equal(r->dev.driver->open(&r->dev), QST_OK);
	rig_pump(r, 0);
	assert_true(r->dev.driver->ready(&r->dev));
	r->n_ev = 0;
	rig_run_until(r, 1234 * MS);
	int64_t t_reset = r->now;
	assert_int_equal(qst_dev_response(&r->dev)->reset_timer(&r->dev), QST_OK);
	rig_pump(r, t_reset);
	assert_int_equal(qst_xid_sim_schedule(r->sim, t_reset + 437 * MS, 3, true),
			 QST_OK);
	assert_int_equal(qst_xid_sim_schedule(r->sim, t_reset + 600 * MS + 999999,
					      3, false), QST_OK);
	assert_int_equal(qst_xid_sim_schedule(r->sim, t_reset + 900 * MS, 8, true),
			 QST_OK);
	assert_int_equal(qst_xid_sim_next_due(r->sim), t_reset + 437 * MS);
	rig_run_until(r, t_reset + 2000 * MS);
	assert_int_equal(r->n_ev, 3);
	const struct qst_button_reading *b = &r->ev[0].u.button;
	assert_int_equal(r->ev[0].type, QST_EV_BUTTON);
	assert_int_equal(r->ev[0].t_ns, t_reset + 437 * MS);
	assert_int_equal(b->key, 3);
	assert_true(b->pressed);
	assert_int_equal(b->device_rt_ms, 437);
	b = &r->ev[1].u.button;
	assert_int_equal(b->key, 3);
	assert_false(b->pressed);
	assert_int_equal(b->device_rt_ms, 600); /* whole ms, truncated */
	b = &r->ev[2].u.button;
	assert_int_equal(b->key, 8);
	assert_int_equal(b->device_rt_ms, 900);
	assert_int_equal(qst_xid_sim_next_due(r->sim), QST_SIM_NEVER);
	assert_int_equal(qst_xid_sim_schedule(r->sim, 0, 9, true), QST_ERR_ARG);
}

int main(void)
{
	qst_log_init_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_key_packets),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_parser_resync_and_splits),
		cmocka_unit_test_setup_teardown(test_probe_and_ready, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_reset_then_press_reports_rt,
						rig_setup, rig_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
