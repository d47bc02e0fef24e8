/*
 * Infinity IN-USB-2 pedal reports (drivers/hidpedal/protocol.c,
 * devices.md §7): presses and releases from the bitmask, several changes
 * in one report, noise for wrong lengths, and the driver's events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/hidpedal/protocol.h"
#include "qst_drivers.h"

static int feed(struct qst_hidpedal_parser *p, uint16_t mask,
		struct qst_hidpedal_change *out)
{
	uint8_t r[2] = { (uint8_t)mask, (uint8_t)(mask >> 8) };
	return qst_hidpedal_feed(p, r, sizeof(r), out, QST_HIDPEDAL_KEYS);
}

static void test_bitmask(void **state)
{
	(void)state;
	struct qst_hidpedal_parser p;
	struct qst_hidpedal_change c[QST_HIDPEDAL_KEYS];
	qst_hidpedal_parser_init(&p);
	assert_int_equal(feed(&p, 0x0002, c), 1);
	assert_int_equal(c[0].key, 2);
	assert_true(c[0].pressed);
	assert_int_equal(feed(&p, 0x0002, c), 0); /* no change, no event */
	assert_int_equal(feed(&p, 0x0005, c), 3); /* 1, 3 down; 2 up */
	assert_int_equal(c[0].key, 1);
	assert_true(c[0].pressed);
	assert_int_equal(c[1].key, 2);
	assert_false(c[1].pressed);
	assert_int_equal(c[2].key, 3);
	assert_true(c[2].pressed);
	assert_int_equal(feed(&p, 0x0000, c), 2);
	assert_false(c[0].pressed);
	assert_false(c[1].pressed);
	assert_int_equal(p.reports, 4);

	/* Wrong lengths are noise and leave the state alone. */
	const uint8_t odd[3] = { 0x07, 0x00, 0x00 };
	assert_int_equal(qst_hidpedal_feed(&p, odd, 3, c, 3), 0);
	assert_int_equal(qst_hidpedal_feed(&p, odd, 1, c, 3), 0);
	assert_int_equal(p.noise, 4);
	assert_int_equal(p.state, 0);
	/* Bits beyond the pedals are counted, not reported. */
	assert_int_equal(feed(&p, 0x8001, c), 1);
	assert_int_equal(p.unknown, 1);
	assert_int_equal(qst_hidpedal_feed(&p, odd, 2, c, 2), QST_ERR_ARG);
}

struct sink {
	struct qst_event ev[16];
	int n;
};

static void collect(const struct qst_event *ev, void *user)
{
	struct sink *s = user;
	assert_true(s->n < 16);
	s->ev[s->n++] = *ev;
}

static void test_driver_events(void **state)
{
	(void)state;
	struct qst_transport fake = { .description = "usb:05f3:00ff test" };
	struct sink s = { .n = 0 };
	struct qst_dev dev = { .transport = &fake, .index = 2 };
	dev.driver = qst_driver_find("hidpedal");
	assert_non_null(dev.driver);
	assert_int_equal(dev.driver->dev_class, QST_DEV_RESPONSE);
	dev.sink.fn = collect;
	dev.sink.user = &s;
	assert_int_equal(dev.driver->open(&dev), QST_OK);
	assert_true(dev.driver->ready(&dev));
	assert_string_equal(dev.info.model, "usb:05f3:00ff test");
	assert_int_equal(qst_dev_response(&dev)->reset_timer(&dev), QST_OK);
	const uint8_t r1[2] = { 0x03, 0x00 };
	dev.driver->receive(&dev, r1, 2, 100);
	const uint8_t junk[5] = { 1, 2, 3, 4, 5 };
	dev.driver->receive(&dev, junk, 5, 150);
	const uint8_t r2[2] = { 0x00, 0x00 };
	dev.driver->receive(&dev, r2, 2, 200);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.ev[0].type, QST_EV_BUTTON);
	assert_int_equal(s.ev[0].u.button.key, 1);
	assert_true(s.ev[0].u.button.pressed);
	assert_int_equal(s.ev[0].u.button.device_rt_ms, -1);
	assert_int_equal(s.ev[0].device, 2);
	assert_int_equal(s.ev[1].u.button.key, 2);
	assert_int_equal(s.ev[2].type, QST_EV_LINK_NOISE);
	assert_int_equal(s.ev[2].u.noise_bytes, 5);
	assert_int_equal(s.ev[3].t_ns, 200);
	assert_false(s.ev[3].u.button.pressed);
	dev.driver->close(&dev);
	assert_null(dev.priv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bitmask),
		cmocka_unit_test(test_driver_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
