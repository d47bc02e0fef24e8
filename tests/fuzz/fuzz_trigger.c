/*
 * TTL trigger boxes (drivers/trigger/protocol.h): the pulse scheduler
 * driven by operations drawn from the input, and the input-port tracker
 * fed the input's bytes. Checks, on the wire the scheduler produces: no
 * code follows another without a reset between (nothing merges), every
 * reset comes no earlier than its code's pulse, every code no earlier
 * than QST_TRIGGER_LOW_MIN_MS after the last reset, every accepted code
 * goes out (or fails) exactly once and in order, refusals happen for the
 * documented reasons only, and next_due never says "now" twice idly.
 */
#include <string.h>

#include "fuzz.h"
#include "../../drivers/trigger/protocol.h"

#define MAX_ACCEPTED 4096

static struct qst_trigger_pulse accepted[MAX_ACCEPTED];

struct wire_state {
	size_t n_accepted;
	size_t n_out;        /* accepted codes that went out or failed */
	bool high;
	int64_t code_ns;
	int32_t pulse_ms;
	int64_t reset_ns;
	bool any_reset;
};

static void check_byte(struct wire_state *w, const struct qst_trigger_pulse *p,
		       int64_t now, bool failed)
{
	if (p->code == QST_TRIGGER_RESET) {
		FUZZ_CHECK(w->high);
		FUZZ_CHECK(now >= w->code_ns + (int64_t)w->pulse_ms * QST_NS_PER_MS);
		w->high = false;
		w->reset_ns = now;
		w->any_reset = true;
		return;
	}
	FUZZ_CHECK(!w->high);
	FUZZ_CHECK(w->n_out < w->n_accepted);
	if (w->n_out < MAX_ACCEPTED) {
		FUZZ_CHECK(accepted[w->n_out].code == p->code);
		FUZZ_CHECK(accepted[w->n_out].pulse_ms == p->pulse_ms);
	}
	w->n_out++;
	if (w->any_reset)
		FUZZ_CHECK(now >= w->reset_ns +
				   QST_TRIGGER_LOW_MIN_MS * QST_NS_PER_MS);
	if (failed)
		return;
	w->high = true;
	w->code_ns = now;
	w->pulse_ms = p->pulse_ms;
}

/* Write what is due at now, as a driver's poll() does; the k-th byte
 * fails when the input says so. */
static void drain(struct qst_trigger_sched *s, struct wire_state *w,
		  int64_t now, uint8_t fail_mask)
{
	struct qst_trigger_pulse p;
	int k = 0;
	while (qst_trigger_sched_due_byte(s, now, &p)) {
		bool failed = (fail_mask >> (k++ & 7)) & 1;
		check_byte(w, &p, now, failed);
		if (failed)
			qst_trigger_sched_failed(s, now);
		else
			qst_trigger_sched_sent(s, now);
		/* Failed codes leave at once; one that goes out stops it. */
		FUZZ_CHECK(k <= QST_TRIGGER_QUEUE_MAX + 1);
	}
	int64_t due = qst_trigger_sched_next_due(s);
	FUZZ_CHECK(due > now);
}

static void run_sched(const uint8_t *data, size_t size)
{
	struct qst_trigger_sched s;
	struct wire_state w = { 0 };
	int64_t now = 0;

	qst_trigger_sched_init(&s);
	for (size_t i = 0; i + 2 < size; i += 3) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
		if (op & 1) {
			int pulse = (op & 2) ? (a << 8 | b) : b;
			size_t before = qst_trigger_sched_pending(&s);
			int r = qst_trigger_sched_push(&s, a, pulse);
			if (a == 0 || pulse < 1 || pulse > QST_TRIGGER_PULSE_MAX_MS)
				FUZZ_CHECK(r == QST_ERR_ARG);
			else if (before == QST_TRIGGER_QUEUE_MAX)
				FUZZ_CHECK(r == QST_ERR_STATE);
			else
				FUZZ_CHECK(r == QST_OK);
			if (r == QST_OK && w.n_accepted < MAX_ACCEPTED)
				accepted[w.n_accepted] =
					(struct qst_trigger_pulse){ a, pulse };
			w.n_accepted += r == QST_OK;
			FUZZ_CHECK(qst_trigger_sched_pending(&s) ==
				   before + (r == QST_OK));
		} else {
			/* Poll on time or late, by up to ~65 ms. */
			int64_t due = qst_trigger_sched_next_due(&s);
			int64_t late = (int64_t)(a << 8 | b) * 1000;
			if (op & 2 && due != INT64_MAX && due > now)
				now = due;
			now += late;
			drain(&s, &w, now, op >> 2);
		}
	}
	/* Run to the end: every accepted code goes out. */
	for (int guard = 0; qst_trigger_sched_next_due(&s) != INT64_MAX; guard++) {
		FUZZ_CHECK(guard < 4 * QST_TRIGGER_QUEUE_MAX + 4);
		int64_t due = qst_trigger_sched_next_due(&s);
		now = due > now ? due : now;
		drain(&s, &w, now, 0);
	}
	FUZZ_CHECK(!w.high);
	FUZZ_CHECK(w.n_out == w.n_accepted);
	FUZZ_CHECK(s.codes + s.failed >= w.n_accepted);
}

static void run_inputs(const uint8_t *data, size_t size)
{
	struct qst_trigger_inputs in;
	unsigned long changes = 0;

	qst_trigger_inputs_init(&in);
	for (size_t i = 0; i < size; i++) {
		bool want = i == 0 || data[i] != data[i - 1];
		FUZZ_CHECK(qst_trigger_inputs_take(&in, data[i]) == want);
		changes += want;
		FUZZ_CHECK(in.state == data[i]);
	}
	FUZZ_CHECK(in.bytes == size && in.changes == changes);
}

FUZZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_sched(data, size);
	run_inputs(data, size);
	return 0;
}
