/*
 * TTL trigger boxes: the pulse scheduler and the TriggerBox input-port
 * tracker (devices.md §6). No I/O here.
 */
#define LOG_PREFIX "trigger-proto: "

#include <string.h>

#include "protocol.h"

void qst_trigger_sched_init(struct qst_trigger_sched *s)
{
	memset(s, 0, sizeof(*s));
	s->next_code_ns = INT64_MIN;
}

int qst_trigger_sched_push(struct qst_trigger_sched *s, uint8_t code,
			   int pulse_ms)
{
	if (!s || code == QST_TRIGGER_RESET || pulse_ms < 1 ||
	    pulse_ms > QST_TRIGGER_PULSE_MAX_MS)
		return QST_ERR_ARG;
	if (s->n == QST_TRIGGER_QUEUE_MAX)
		return QST_ERR_STATE;
	size_t tail = (s->head + s->n) % QST_TRIGGER_QUEUE_MAX;
	s->queue[tail] = (struct qst_trigger_pulse){ code, pulse_ms };
	s->n++;
	return QST_OK;
}

bool qst_trigger_sched_due_byte(const struct qst_trigger_sched *s,
				int64_t now_ns, struct qst_trigger_pulse *out)
{
	if (s->high) {
		if (now_ns < s->reset_due_ns)
			return false;
		*out = (struct qst_trigger_pulse){ QST_TRIGGER_RESET, 0 };
		return true;
	}
	if (s->n == 0 || now_ns < s->next_code_ns)
		return false;
	*out = s->queue[s->head];
	return true;
}

void qst_trigger_sched_sent(struct qst_trigger_sched *s, int64_t now_ns)
{
	if (s->high) {
		s->high = false;
		s->resets++;
		s->next_code_ns = now_ns + QST_TRIGGER_LOW_MIN_MS * QST_NS_PER_MS;
		return;
	}
	if (s->n == 0)
		return;
	s->current = s->queue[s->head];
	s->head = (s->head + 1) % QST_TRIGGER_QUEUE_MAX;
	s->n--;
	s->high = true;
	s->codes++;
	s->reset_due_ns = now_ns + (int64_t)s->current.pulse_ms * QST_NS_PER_MS;
}

void qst_trigger_sched_failed(struct qst_trigger_sched *s, int64_t now_ns)
{
	s->failed++;
	if (s->high) {
		qst_trigger_sched_sent(s, now_ns);
		s->resets--;
		return;
	}
	if (s->n == 0)
		return;
	s->head = (s->head + 1) % QST_TRIGGER_QUEUE_MAX;
	s->n--;
}

int64_t qst_trigger_sched_next_due(const struct qst_trigger_sched *s)
{
	if (s->high)
		return s->reset_due_ns;
	return s->n > 0 ? s->next_code_ns : INT64_MAX;
}

size_t qst_trigger_sched_pending(const struct qst_trigger_sched *s)
{
	return s->n;
}

void qst_trigger_inputs_init(struct qst_trigger_inputs *in)
{
	memset(in, 0, sizeof(*in));
}

bool qst_trigger_inputs_take(struct qst_trigger_inputs *in, uint8_t b)
{
	in->bytes++;
	if (in->known && in->state == b)
		return false;
	in->known = true;
	in->state = b;
	in->changes++;
	return true;
}
