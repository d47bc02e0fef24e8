/*
 * Outgoing byte queue shared by the simulators: what a device has said but
 * the socket buffer could not yet take. Never blocks; bytes are only
 * dropped past a large cap, and then with a warning.
 */
#ifndef QST_DRIVERS_SIM_SIM_OUTQ_H
#define QST_DRIVERS_SIM_SIM_OUTQ_H

#include <stddef.h>
#include <stdint.h>

struct qst_sim_outq {
	uint8_t *buf;
	size_t len;
	size_t cap;
	unsigned long dropped;
};

void qst_sim_outq_free(struct qst_sim_outq *q);
/* Queue bytes behind what is already waiting, then try to write. */
void qst_sim_outq_send(struct qst_sim_outq *q, int fd, const void *data,
		       size_t len, const char *who);
/* Write what waits, as far as the socket takes it. */
void qst_sim_outq_flush(struct qst_sim_outq *q, int fd, const char *who);
static inline size_t qst_sim_outq_pending(const struct qst_sim_outq *q)
{
	return q->len;
}

/*
 * Read every command byte waiting on a simulator's fd without blocking and
 * hand each to take_byte(sim, c): the device side of the link.
 */
void qst_sim_read_commands(int fd, void (*take_byte)(void *sim, char c),
			   void *sim);

#endif
