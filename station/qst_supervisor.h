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
#include "qst_drivers.h"

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
	/* Tracking (§8.2 interlock 3): while a stimulus runs, readback further
	 * than track_tol_c from the command for track_time_ns → abort.
	 * Defaults 2 °C and 1 s, the interlock's own numbers. */
	double track_tol_c;
	int64_t track_time_ns;
	/* After a fault the thermode is sent to this neutral, default 32 °C
	 * (§8.2 interlock 5). */
	double safe_neutral_c;
	/* Corrupt data on a device link: a stretch of noise reports no more
	 * than link_noise_gap_ns apart that lasts link_noise_max_ns is a
	 * fault; shorter ones are resynchronised and counted. Defaults
	 * 250 ms and 1 s [U]: our choice, see supervisor.c. */
	int64_t link_noise_gap_ns;
	int64_t link_noise_max_ns;
	double max_kpa;        /* algometer backstop, default 2200 kPa: above the
				* PPT method's 2000 kPa cut-off (§8.3 device
				* maximum), so a censored trial ends normally and
				* only pressing on past it aborts */
	double dose_threshold_c; /* dose guard: time above this ... default 45 °C */
	double dose_budget_s;  /* ... at most this long ... default 120 s */
	double dose_window_s;  /* ... in any window this long, default 600 s
				* (§8.2 interlock 2; needs ethics approval) */
	double max_vpp;        /* vibration drive ceiling, default 10 Vpp: the
				* function generator driver's own range, as no
				* rule in qst-domain.md names one [U] */
};

void qst_thermal_limits_default(struct qst_thermal_limits *lim);

/*
 * The limits a station file (station/config) and a protocol's qst.safety{}
 * may set, by name. Each has a direction: for a ceiling a lower value is
 * stricter, for a floor a higher one. The compiled-in defaults above are
 * the loosest values there are; qst_limit_tighten() is the one place that
 * refuses anything looser than what is already in force.
 */
enum qst_limit_sense {
	QST_LIMIT_CEILING,  /* lower is stricter (max_c, dose_budget_s) */
	QST_LIMIT_FLOOR,    /* higher is stricter (min_c, dose_window_s) */
	QST_LIMIT_SETTING,  /* no direction; kept consistent (safe_neutral_c) */
};

struct qst_limit_key {
	const char *group;  /* "thermal", "pressure", "vibration" */
	const char *name;   /* "max_c": the key in files and qst.safety{} */
	const char *unit;
	enum qst_limit_sense sense;
	double strict;      /* strictest value accepted: below it the station
			     * could not work at all (sanity, not safety) */
	bool protocol;      /* qst.safety{} may tighten it */
	size_t offset;      /* of the field in struct qst_thermal_limits */
	bool ns;            /* an int64_t in ns, given in seconds */
};

/* The table, ended by an entry with a NULL name. */
const struct qst_limit_key *qst_limit_keys(void);
/* A key by name within a group (group NULL: any group), or NULL. */
const struct qst_limit_key *qst_limit_key_find(const char *group,
					       const char *name);
double qst_limit_get(const struct qst_thermal_limits *lim,
		     const struct qst_limit_key *k);
/*
 * Set k to v. QST_ERR_ARG (not finite, or stricter than k->strict) or
 * QST_ERR_LIMIT when v is looser than the value in force, with `why`
 * saying "max_c = 55 °C is looser than <than> 50 °C"; the caller says
 * who may only tighten. A SETTING only needs to be in range.
 */
int qst_limit_tighten(struct qst_thermal_limits *lim,
		      const struct qst_limit_key *k, double v,
		      const char *than, char *why, size_t whylen);
/* min below max, the baseline range inside them, the safe neutral inside
 * the baseline range: QST_ERR_ARG with `why` otherwise. */
int qst_limits_consistent(const struct qst_thermal_limits *lim, char *why,
			  size_t whylen);
/* A vibration drive above the ceiling: QST_ERR_LIMIT, before the wire. */
int qst_supervisor_check_vibration(double max_vpp, double vpp, char *why,
				   size_t whylen);

/*
 * Check one thermal stimulus request (ramp to target at rate, hold, return
 * at return rate to the neutral temperature). QST_OK, or QST_ERR_LIMIT with
 * `why` naming the rule and the numbers.
 */
int qst_supervisor_check_ramp(const struct qst_thermal_limits *lim,
			      double target_c, double rate_c_s, double hold_s,
			      double return_c_s, char *why, size_t whylen);
/*
 * Check a whole waveform before anything is sent: every segment's end
 * temperature within the limits, its rate (from where the previous one
 * ended; the first from from_c) at most the rate ceiling, time held at or
 * above long_hold_c at most long_hold_max_s, and the return rate. `why`
 * names the segment (1-based) and the rule.
 */
int qst_supervisor_check_waveform(const struct qst_thermal_limits *lim,
				  double from_c,
				  const struct qst_wave_segment *seg, size_t n,
				  double return_c_s, char *why, size_t whylen);
int qst_supervisor_check_neutral(const struct qst_thermal_limits *lim,
				 double neutral_c, char *why, size_t whylen);
/* A measured readback outside the limits (plus margin): QST_ERR_LIMIT. */
int qst_supervisor_check_readback(const struct qst_thermal_limits *lim,
				  double measured_c, char *why, size_t whylen);

/*
 * The tracking check (§8.2 interlock 3), fed one readback sample at a
 * time while a stimulus runs: QST_ERR_LIMIT once |measured − commanded|
 * has stayed above track_tol_c for track_time_ns, with `why` saying how
 * far and how long ("thermode readback 38.2 °C diverges from command
 * 45.0 °C by 6.8 °C for 1.00 s"). A sample within tolerance, or a NaN,
 * ends the excursion. Reset between stimuli.
 */
struct qst_tracking {  /* zeroed or reset: no excursion */
	bool out;          /* the last sample was beyond tolerance */
	int64_t since_ns;  /* first sample of the excursion */
};

void qst_tracking_reset(struct qst_tracking *tr);
int qst_supervisor_check_tracking(const struct qst_thermal_limits *lim,
				  struct qst_tracking *tr, int64_t t_ns,
				  double measured_c, double commanded_c,
				  char *why, size_t whylen);

/*
 * Corrupt data on a link (a driver resynchronised past `bytes` bytes at
 * t_ns). Returns 1 when this report starts a new stretch of noise (worth
 * recording), 0 when it continues one, QST_ERR_LIMIT once the stretch
 * has lasted link_noise_max_ns (`why` names the device, how long and how
 * many bytes).
 */
struct qst_link_noise {  /* zeroed or reset: a clean link */
	bool noisy;
	int64_t first_ns;   /* start of the current stretch */
	int64_t last_ns;
	uint64_t bytes;     /* discarded in the current stretch */
};

void qst_link_noise_reset(struct qst_link_noise *ln);
int qst_supervisor_check_noise(const struct qst_thermal_limits *lim,
			       struct qst_link_noise *ln, const char *device,
			       int64_t t_ns, uint64_t bytes, char *why,
			       size_t whylen);

/* An algometer reading above the pressure ceiling: QST_ERR_LIMIT. */
int qst_supervisor_check_pressure(const struct qst_thermal_limits *lim,
				  double kpa, char *why, size_t whylen);

/*
 * Thermal dose guard (qst-domain.md §8.2 interlock 2): the time the skin
 * spends above dose_threshold_c may not exceed dose_budget_s in any
 * dose_window_s window at one site. A stimulus is checked before it is
 * sent, assuming its worst case (the ramp runs to its target or cut-off),
 * and the measured exposure is accounted from the readback, so a thermode
 * that stays hot is caught as well. One guard per session (one site).
 */
#define QST_DOSE_MAX_SPANS 512

struct qst_dose_guard {
	double threshold_c;
	double budget_s;
	int64_t window_ns;
	struct { int64_t from_ns, to_ns; } span[QST_DOSE_MAX_SPANS];
	int n_spans;
	bool above;            /* the last readback was above the threshold */
	int64_t last_t_ns;
};

void qst_dose_init(struct qst_dose_guard *g, const struct qst_thermal_limits *lim);
/* Account a readback: time since the previous one counts as exposure
 * when both are above the threshold. */
void qst_dose_note(struct qst_dose_guard *g, int64_t t_ns, double measured_c);
/* Measured exposure in [from_ns, to_ns], in seconds. */
double qst_dose_exposed_s(const struct qst_dose_guard *g, int64_t from_ns,
			  int64_t to_ns);
/* Time a stimulus spends above threshold_c, in seconds: ramp from from_c
 * to target_c at rate, hold, return to neutral_c at return rate. */
double qst_dose_stimulus_s(double threshold_c, double from_c, double target_c,
			   double rate_c_s, double hold_s, double return_c_s,
			   double neutral_c);
/* Time a waveform spends above threshold_c, in seconds: its segments
 * from from_c, then the return to neutral_c at return rate. */
double qst_dose_waveform_s(double threshold_c, double from_c,
			   const struct qst_wave_segment *seg, size_t n,
			   double return_c_s, double neutral_c);
/* As qst_dose_check_stimulus, for a waveform. */
int qst_dose_check_waveform(const struct qst_dose_guard *g, int64_t now_ns,
			    double from_c, const struct qst_wave_segment *seg,
			    size_t n, double return_c_s, double neutral_c,
			    char *why, size_t whylen);
/* Before a stimulus that starts at now_ns: QST_ERR_LIMIT when its worst
 * case would push the exposure of the window ending at its end past the
 * budget. */
int qst_dose_check_stimulus(const struct qst_dose_guard *g, int64_t now_ns,
			    double from_c, double target_c, double rate_c_s,
			    double hold_s, double return_c_s, double neutral_c,
			    char *why, size_t whylen);
/* While stimulating: QST_ERR_LIMIT once the measured exposure of the
 * window ending now exceeds the budget. */
int qst_dose_check_now(const struct qst_dose_guard *g, int64_t now_ns,
		       char *why, size_t whylen);

#endif
