/*
 * qst simulated rig — every simulated device of a station and the virtual
 * participant between them, each device serving its wire protocol on a
 * file descriptor. The simulated station hands it the far ends of
 * in-process socketpairs; `qst simulate station` hands it pseudo-terminals
 * and the driver tests hand it umockdev-emulated serial ports, so the same
 * participant answers the same stimuli whichever transport carries them.
 *
 * Device slots follow the station's roles (qst_station.h, enum qst_role).
 */
#ifndef QST_DRIVERS_SIM_QST_SIMRIG_H
#define QST_DRIVERS_SIM_QST_SIMRIG_H

#include <stdbool.h>
#include <stdint.h>

#include "qst_participant.h"
#include "qst_sim.h"

enum qst_simrig_slot {
	QST_SIMRIG_THERMAL = 0,   /* TCS II */
	QST_SIMRIG_RESPONSE = 1,  /* Cedrus XID pad */
	QST_SIMRIG_PRESSURE = 2,  /* Mark-10 gauge */
	QST_SIMRIG_VIBRATION = 3, /* SCPI function generator */
	QST_SIMRIG_RATING = 4,    /* QST.Lab eVAS */
	QST_SIMRIG_SYNC = 5,      /* TTL trigger box */
	QST_SIMRIG_SLOTS
};

struct qst_simrig_config {
	uint64_t seed;
	struct qst_participant_profile participant;
	double probe_area_cm2;     /* algometer probe the participant feels */
	/* a fault per device (kind NONE for healthy); seeds drawn from seed */
	struct qst_sim_fault faults[QST_SIMRIG_SLOTS];
};

struct qst_simrig;

/*
 * One simulator on each fds[slot] >= 0 (taken: each simulator closes its
 * own when freed); a slot with -1 has no device. The thermode and the pad
 * are needed for the participant. err says what failed.
 */
int qst_simrig_new(const struct qst_simrig_config *cfg,
		   const int fds[QST_SIMRIG_SLOTS], int64_t t0_ns,
		   struct qst_simrig **out, char *err, size_t errlen);
void qst_simrig_free(struct qst_simrig *rig);

/* Bring every device and the participant to t (the thermode first, so the
 * participant feels the plate as it is at t). */
void qst_simrig_step(struct qst_simrig *rig, int64_t t_ns);
/* When some device next has something to say (QST_SIM_NEVER if none). */
int64_t qst_simrig_next_due(const struct qst_simrig *rig);

/* The participant holds the slider (rating lines flow) or lets it be. */
void qst_simrig_rating_capture(struct qst_simrig *rig, bool on);

struct qst_participant *qst_simrig_participant(struct qst_simrig *rig);
/* The simulated operator's hand on the algometer, rate in kPa/s. */
void qst_simrig_hand_press(struct qst_simrig *rig, int64_t t_ns,
			   double rate_kpa_s);
void qst_simrig_hand_release(struct qst_simrig *rig, int64_t t_ns);

/*
 * Take the operator's instructions (the participant's task) as datagrams
 * on a Unix socket bound at path (qst_task_format lines): what an operator
 * would say to a subject, for a rig behind real ports, where the station
 * cannot reach the participant in process. Served by qst_simrig_serve.
 */
int qst_simrig_listen(struct qst_simrig *rig, const char *path, char *err,
		      size_t errlen);

/*
 * Serve the rig in real time on CLOCK_MONOTONIC from t0 (the far ends'
 * own clock) until *stop becomes true: wake when a device fd is readable
 * or something falls due. For simulators behind real ports (ptys,
 * umockdev); the in-process station steps the rig itself.
 */
void qst_simrig_serve(struct qst_simrig *rig, int64_t origin_mono_ns,
		      const volatile bool *stop);

#endif
