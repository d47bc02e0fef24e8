/*
 * qst methods — psychophysical procedures in C, run against a "rig": the
 * session's supervised, recorded view of the station. Methods decide what
 * to present and when; the rig owns devices, safety and the recorder, so
 * a method cannot reach a device except through the supervisor.
 */
#ifndef QST_PROTOCOLS_METHODS_QST_METHODS_H
#define QST_PROTOCOLS_METHODS_QST_METHODS_H

#include <stdint.h>

#include "qst_participant.h"
#include "qst_protocol.h"
#include "qst_recorder.h"

struct qst_press {
	int64_t t_ns;        /* host arrival time of the key press */
	int key;
	double device_rt_s;  /* response device's own timer, NaN if none */
};

/*
 * Every call returns QST_OK (or a count, where documented) or a negative
 * qst_err; the rig keeps the detail text of its last error.
 */
struct qst_rig_ops {
	int64_t (*now)(void *rig);
	/* Supervised: ramp to target at rate, hold, return at return rate. */
	int (*ramp)(void *rig, double target_c, double rate_c_s, double hold_s,
		    double return_c_s);
	/* Supervised: the temperature the thermode rests at. */
	int (*set_baseline)(void *rig, double celsius);
	int (*reset_response_timer)(void *rig);
	/* 1 with *press filled, 0 when deadline passes first. */
	int (*await_press)(void *rig, int64_t deadline_ns,
			   struct qst_press *press);
	/* 1 once the measured temperature is within tol of target, 0 at deadline. */
	int (*await_temperature)(void *rig, double target_c, double tol_c,
				 int64_t deadline_ns);
	/* Latest readback at or before t; commanded setpoint at t. */
	double (*measured_at)(void *rig, int64_t t_ns);
	double (*commanded_at)(void *rig, int64_t t_ns);
	/* What the subject is asked (drives the virtual participant). */
	void (*task)(void *rig, const struct qst_task *task);
	/* Start a trial: returns its session-wide id (>= 0). */
	int (*trial_begin)(void *rig);
	/* Record a finished trial (journal fsync + HDF5 flush). */
	int (*trial_end)(void *rig, const struct qst_trial_record *t);
	void (*event)(void *rig, int code, double value, double value2,
		      const char *message);
	double (*uniform)(void *rig); /* [0, 1), for ISI jitter */
};

/* Method of limits, ramped and RT-inclusive (qst-domain.md §2.1, §2.3, §7.1). */
int qst_method_limits(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_limits_params *p);
/* TSL with the quality of each press, for PHS (qst-domain.md §2.2). */
int qst_method_tsl(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_tsl_params *p);
/* Stay at baseline until deadline; presses meanwhile are recorded only. */
int qst_method_idle(const struct qst_rig_ops *ops, void *rig,
		    int64_t deadline_ns);

/* Fill a trial's response fields from a press, or from the cut-off. */
void qst_method_take_response(const struct qst_rig_ops *ops, void *rig,
			      const struct qst_press *press, bool pressed,
			      double cutoff_c, struct qst_trial_record *t);
/* Wait until the thermode is back at baseline after a return from from_c
 * at rate; a DEVICE_FAULT event and QST_ERR_DEVICE when it is not in time. */
int qst_method_settle(const struct qst_rig_ops *ops, void *rig,
		      double baseline, double from_c, double rate);

/* TSL quality of a response key: 1 cold, 2 warm, 3 hot, 4 burning. */
int qst_quality_from_key(int key);

#endif
