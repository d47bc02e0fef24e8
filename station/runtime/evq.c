/*
 * The event queue between device I/O and the session (qst_station.h).
 */
#define LOG_PREFIX "evq: "

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "qst_station.h"

int qst_evq_init(struct qst_evq *q)
{
	q->ring = calloc(QST_EVQ_CAPACITY, sizeof(*q->ring));
	if (!q->ring)
		return QST_ERR_NOMEM;
	q->head = q->count = 0;
	q->dropped = 0;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	/* Deadlines are on CLOCK_MONOTONIC, never on the settable wall clock. */
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->nonempty, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&q->lock, NULL);
	return QST_OK;
}

void qst_evq_destroy(struct qst_evq *q)
{
	if (!q->ring)
		return;
	pthread_cond_destroy(&q->nonempty);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	q->ring = NULL;
}

void qst_evq_push(struct qst_evq *q, const struct qst_event *ev)
{
	pthread_mutex_lock(&q->lock);
	if (q->count == QST_EVQ_CAPACITY) {
		q->dropped++;
		pthread_mutex_unlock(&q->lock);
		qst_err("queue full, event of type %d dropped", ev->type);
		return;
	}
	q->ring[(q->head + q->count) % QST_EVQ_CAPACITY] = *ev;
	q->count++;
	pthread_mutex_unlock(&q->lock);
	/* After the unlock: the woken session does not then wait on the
	 * lock this thread still holds (bench/bench_latency.c). */
	pthread_cond_signal(&q->nonempty);
}

static bool pop_locked(struct qst_evq *q, struct qst_event *ev)
{
	if (q->count == 0)
		return false;
	*ev = q->ring[q->head];
	q->head = (q->head + 1) % QST_EVQ_CAPACITY;
	q->count--;
	return true;
}

bool qst_evq_pop(struct qst_evq *q, struct qst_event *ev)
{
	pthread_mutex_lock(&q->lock);
	bool got = pop_locked(q, ev);
	pthread_mutex_unlock(&q->lock);
	return got;
}

bool qst_evq_pop_wait(struct qst_evq *q, int64_t abs_mono_ns,
		      struct qst_event *ev)
{
	struct timespec ts = { .tv_sec = abs_mono_ns / QST_NS_PER_S,
			       .tv_nsec = abs_mono_ns % QST_NS_PER_S };
	pthread_mutex_lock(&q->lock);
	while (q->count == 0) {
		if (pthread_cond_timedwait(&q->nonempty, &q->lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	bool got = pop_locked(q, ev);
	pthread_mutex_unlock(&q->lock);
	return got;
}
