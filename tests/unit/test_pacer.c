/*
 * Unit tests for the pacer (station/core/pacer.c): exact jumps on the
 * virtual clock, never early on the real one, the margin's bounds, and
 * real-time mode reporting what it got.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qst_core.h"

static void test_virtual_jumps_exactly(void **state)
{
	(void)state;
	struct qst_clock c;
	qst_clock_init(&c, QST_CLOCK_VIRTUAL);
	struct qst_pacer p;
	qst_pacer_init(&p, 0);
	int64_t due = 2 * QST_NS_PER_S + 12345;
	assert_int_equal(qst_pacer_handover(&p, &c, due), due);
	assert_int_equal(qst_pacer_wait(&p, &c, due), 0);
	assert_int_equal(qst_clock_now(&c), due);
	/* A deadline in the past never moves time back. */
	assert_int_equal(qst_pacer_wait(&p, &c, QST_NS_PER_S), 0);
	assert_int_equal(qst_clock_now(&c), due);
	assert_int_equal(p.waits, 2);
}

static void test_real_never_early(void **state)
{
	(void)state;
	struct qst_clock c;
	qst_clock_init(&c, QST_CLOCK_REAL);
	struct qst_pacer p;
	qst_pacer_init(&p, 0);
	for (int k = 1; k <= 20; k++) {
		int64_t due = qst_clock_now(&c) + 2 * QST_NS_PER_MS;
		int64_t handover = qst_pacer_handover(&p, &c, due);
		assert_true(handover < due);
		assert_true(due - handover >= QST_PACER_MARGIN_MIN_NS);
		int64_t late = qst_pacer_wait(&p, &c, due);
		int64_t now = qst_clock_now(&c);
		assert_true(now >= due);
		assert_true(late >= 0);
		assert_true(late <= now - due);
		/* Generous: only a pacer that does not wait at all, or
		 * sleeps a whole period too long, gets near it. */
		assert_true(late < 500 * QST_NS_PER_MS);
		assert_true(p.margin_ns >= p.margin_min_ns &&
			    p.margin_ns <= p.margin_max_ns);
	}
	assert_int_equal(p.waits, 20);
	assert_true(p.max_late_ns >= p.last_late_ns);
}

static void test_past_deadline_returns_lateness(void **state)
{
	(void)state;
	struct qst_pacer p;
	qst_pacer_init(&p, 0);
	int64_t due = qst_monotonic_ns() - 5 * QST_NS_PER_MS;
	int64_t late = qst_pacer_wait_mono(&p, due);
	assert_true(late >= 5 * QST_NS_PER_MS);
	assert_int_equal(p.late_waits, 0); /* no coarse sleep was taken */
}

static void test_fixed_margin_stays(void **state)
{
	(void)state;
	struct qst_pacer p;
	qst_pacer_init(&p, 400 * 1000);
	for (int k = 0; k < 5; k++)
		qst_pacer_wait_mono(&p, qst_monotonic_ns() + QST_NS_PER_MS);
	assert_int_equal(p.margin_ns, 400 * 1000);
}

static void test_realtime_reports(void **state)
{
	(void)state;
	struct qst_realtime rt;
	qst_log_set_level(QST_LOG_NONE);
	qst_realtime_enter(&rt, QST_REALTIME_PRIORITY);
	assert_non_null(strstr(rt.what, "mlockall"));
	assert_non_null(strstr(rt.what, "SCHED_FIFO"));
	assert_int_equal(rt.fifo, rt.priority > 0);
	qst_realtime_leave(&rt);
	assert_false(rt.fifo);
	assert_false(rt.memory_locked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtual_jumps_exactly),
		cmocka_unit_test(test_real_never_early),
		cmocka_unit_test(test_past_deadline_returns_lateness),
		cmocka_unit_test(test_fixed_margin_stays),
		cmocka_unit_test(test_realtime_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
