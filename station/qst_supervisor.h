/*
 * qst safety supervisor — every stimulus request passes through it before
 * any byte reaches a device. Station limits are configured by the station,
 * never loosened by a protocol script. Numbers: qst-domain.md §8.1–§8.2.
 */
#ifndef QST_STATION_QST_SUPERVISOR_H
#define QST_STATION_QST_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

struct qst_thermal_limits {
	double min_c;          /* hard minimum, default 0 °C (§8.2 interlock 1) */
	double max_c;          /* hard maximum, default 50 °C (§8.2 interlock 1) */
	double max_rate_c_s;   /* ramp/return rate ceiling, default 10 °C/s */
	double neutral_min_c;  /* baseline range, default 20–40 °C (§8.1, TCS II) */
	double neutral_max_c;
	double long_hold_c;    /* holds at or above this ... default 48 °C */
	double long_hold_max_s; /* ... may last at most this, default 30 s (§8.2 interlock 2) */
	double readback_margin_c; /* readback beyond the limits by this → abort, default 1 °C */
	int64_t readback_timeout_ns; /* stimulating: no readback for this long → abort, default 500 ms (§8.2 interlock 3) */
	int64_t readback_idle_timeout_ns; /* idle (1 Hz stream): default 2.5 s */
	double max_kpa;        /* algometer backstop, default 2200 kPa: above the
				* PPT method's 2000 kPa cut-off (§8.3 device
				* maximum), so a censored trial ends normally and
				* only pressing on past it aborts */
};

void qst_thermal_limits_default(struct qst_thermal_limits *lim);

/*
 * Check one thermal stimulus request (ramp to target at rate, hold, return
 * at return rate to the neutral temperature). QST_OK, or QST_ERR_LIMIT with
 * `why` naming the rule and the numbers.
 */
int qst_supervisor_check_ramp(const struct qst_thermal_limits *lim,
			      double target_c, double rate_c_s, double hold_s,
			      double return_c_s, char *why, size_t whylen);
int qst_supervisor_check_neutral(const struct qst_thermal_limits *lim,
				 double neutral_c, char *why, size_t whylen);
/* A measured readback outside the limits (plus margin): QST_ERR_LIMIT. */
int qst_supervisor_check_readback(const struct qst_thermal_limits *lim,
				  double measured_c, char *why, size_t whylen);

/* An algometer reading above the pressure ceiling: QST_ERR_LIMIT. */
int qst_supervisor_check_pressure(const struct qst_thermal_limits *lim,
				  double kpa, char *why, size_t whylen);

#endif
