/*
 * Fault injection shared by the simulators (struct qst_sim_fault in
 * qst_sim.h): when a fault is active, and what it does to the bytes a
 * simulated device sends.
 */
#ifndef QST_DRIVERS_SIM_SIM_FAULT_H
#define QST_DRIVERS_SIM_SIM_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "qst_sim.h"
#include "sim_outq.h"

struct qst_sim_fault_state {
	struct qst_sim_fault f;
	struct qst_rng rng;
	const char *who;
	bool gone;              /* disconnected: the fd is closed */
	int64_t next_noise_ns;  /* next burst between messages */
	unsigned long garbage_bytes;
};

void qst_sim_fault_arm(struct qst_sim_fault_state *fs,
		       const struct qst_sim_fault *f, const char *who);
bool qst_sim_fault_stalled(const struct qst_sim_fault_state *fs, int64_t t_ns);
bool qst_sim_fault_garbling(const struct qst_sim_fault_state *fs, int64_t t_ns);
bool qst_sim_fault_diverging(const struct qst_sim_fault_state *fs,
			     int64_t t_ns);
/* Neither stalled nor disconnected at t: the device talks. */
static inline bool qst_sim_fault_talks(const struct qst_sim_fault_state *fs,
				       int64_t t_ns)
{
	return !fs->gone && !qst_sim_fault_stalled(fs, t_ns);
}

/* Carry out a disconnect due by t (closes *fd, sets it to -1); true once
 * the link is gone. */
bool qst_sim_fault_link_gone(struct qst_sim_fault_state *fs, int *fd,
			     int64_t t_ns);
/* Send a message the device says at t: dropped while it does not talk,
 * garbled while garbage is on. */
void qst_sim_fault_send(struct qst_sim_fault_state *fs, struct qst_sim_outq *q,
			int fd, const void *data, size_t len, int64_t t_ns);
/* Noise bursts between messages that fell due by t. */
void qst_sim_fault_noise(struct qst_sim_fault_state *fs, struct qst_sim_outq *q,
			 int fd, int64_t t_ns);
/* When the simulator must next be stepped for its fault (QST_SIM_NEVER
 * if never): a disconnect's moment, the next noise burst. */
int64_t qst_sim_fault_next_due(const struct qst_sim_fault_state *fs);

#endif
