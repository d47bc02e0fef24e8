/*
 * qst session — one run of a protocol script on a station: the script
 * engine's host, the methods' rig, the supervisor in front of every
 * stimulus, and the recorder behind every event.
 */
#ifndef QST_STATION_QST_SESSION_H
#define QST_STATION_QST_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qst_analysis.h"

struct qst_console;
#include "qst_protocol.h"
#include "qst_recorder.h"
#include "qst_station.h"
#include "qst_supervisor.h"

struct qst_session_config {
	const char *protocol_path;
	const char *protocol_text;
	size_t protocol_len;
	/* Subject, operator and station fields; protocol fields are filled
	 * from the script's qst.protocol{} declaration. */
	struct qst_session_meta meta;
	const char *out_path;  /* NULL: dry run, nothing recorded (qst check) */
	bool overwrite;
	struct qst_station_config station;
	struct qst_thermal_limits limits;
	struct qst_script_limits script_limits;
	int64_t expected_duration_ns; /* from the dry run, for "time left"; 0 unknown */
	/* Where answers to manual steps come from: the operator console, or
	 * NULL for the virtual participant (simulated station). */
	struct qst_console *operator_console;
	FILE *console;         /* operator output, NULL for none */
	bool console_is_tty;   /* live status line instead of plain lines */
	/* Emergency stop (issue 7 item 3). stop_request: non-zero asks for
	 * one (set it from a signal handler); NULL for none. A press of
	 * estop_key (0: none) or holding any key for estop_hold_ns (0: off)
	 * on the response device is one too. Then the thermode is aborted
	 * and the session pauses: the operator console may resume it (the
	 * interrupted trial is repeated) or end it; without one it ends. */
	volatile sig_atomic_t *stop_request;
	int estop_key;
	int64_t estop_hold_ns;
	/* Real-time mode for the session thread, which paces the trains
	 * (docs/timing.md): mlockall and SCHED_FIFO where permitted; what
	 * was granted is recorded (QST_EVC_REALTIME). */
	bool realtime;
	/* Numbers given to the script (qst.option); each must be read. */
	struct qst_script_option options[QST_SCRIPT_MAX_OPTIONS];
	int n_options;
};

/* In real time, an emergency stop is noticed within this. */
#define QST_ESTOP_POLL_NS (5 * QST_NS_PER_MS)

/* What a run did, for the operator and for `qst check`. */
/* One qst.section() of the script, as the dry run met it. */
struct qst_step_summary {
	char title[96];
	int64_t start_ns;
	int trials_before;        /* trials completed when it began */
};
#define QST_SUMMARY_MAX_STEPS 48

struct qst_session_summary {
	int result;               /* QST_OK or the error that ended the run */
	char error[512];          /* the reason, when result < 0 */
	char protocol_name[128];
	char protocol_version[32];
	int trials;
	int cutoffs;
	int refusals;
	int sections;
	int tests[QST_PARAM_COUNT]; /* trials per parameter */
	int64_t duration_ns;      /* session clock at the end */
	double min_commanded_c;   /* stimulus envelope actually commanded */
	double max_commanded_c;
	double max_rate_c_s;
	double min_force_mn;      /* manual stimuli applied (NaN-free forces) */
	double max_force_mn;
	double max_kpa;           /* highest algometer reading */
	int64_t stop_abort_mono_ns; /* CLOCK_MONOTONIC when the last emergency
				     * stop's abort command had been sent */
	double max_dose_s;        /* most time above the dose threshold in
				   * any dose window (qst_dose_guard) */
	int n_steps;              /* sections beyond the cap are only counted */
	struct qst_step_summary steps[QST_SUMMARY_MAX_STEPS];
	bool recorded;            /* a session file exists (out_path) */
	struct qst_thermal_limits limits; /* in force at the end: the station's
					   * as the protocol tightened them */
};

int qst_session_run(const struct qst_session_config *cfg,
		    struct qst_session_summary *summary);

#endif
