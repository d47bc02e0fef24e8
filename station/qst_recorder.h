/*
 * qst recorder — one HDF5 file per session plus an append-only journal
 * beside it (FILE.h5.journal). The journal is fsynced and the HDF5 file
 * flushed at every completed trial, so a crash at any moment loses no
 * completed trial; `qst recover` rebuilds the HDF5 file from the journal
 * alone. Layout: docs/hdf5-schema.md.
 */
#ifndef QST_STATION_QST_RECORDER_H
#define QST_STATION_QST_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"
#include "qst_drivers.h"

#define QST_SCHEMA_NAME "qst-session"
#define QST_SCHEMA_VERSION "1.2.0"

/* Event codes: the /events/code column; names in /events/code_names. */
enum qst_event_code {
	QST_EVC_SESSION_START = 0,
	QST_EVC_SESSION_END = 1,
	QST_EVC_TEST_START = 2,    /* value = enum qst_param */
	QST_EVC_TEST_END = 3,      /* value = enum qst_param */
	QST_EVC_TRIAL_START = 4,
	QST_EVC_TRIAL_END = 5,
	QST_EVC_STIM_RAMP = 6,     /* value = target °C, value2 = rate °C/s */
	QST_EVC_STIM_ABORT = 7,
	QST_EVC_STIM_NEUTRAL = 8,  /* value = neutral °C */
	QST_EVC_RESPONSE_PRESS = 9, /* value = key, value2 = device RT s (NaN) */
	QST_EVC_RESPONSE_RELEASE = 10,
	QST_EVC_REFUSAL = 11,      /* message says which limit */
	QST_EVC_SCRIPT_ERROR = 12,
	QST_EVC_DEVICE_FAULT = 13,
	QST_EVC_INSTRUCTION = 14,  /* what the operator tells the subject */
	QST_EVC_LOG = 15,          /* a script's qst.log() */
	QST_EVC_CUTOFF_REACHED = 16,
	QST_EVC_TEST_NOT_DONE = 17, /* value = enum qst_param, message = reason */
	/* issue 4: manual steps */
	QST_EVC_STIMULUS = 18,     /* value = stimulus (mN), value2 = answer; message = what */
	QST_EVC_OPERATOR_NOTE = 19, /* message = the operator's note */
	QST_EVC_REPEAT = 20,       /* the operator repeated a stimulus */
	QST_EVC_CUE = 21,          /* a timed cue to the operator ("apply now") */
	QST_EVC_PRESSURE_APPLY = 22, /* value = target rate kPa/s */
	QST_EVC_PRESSURE_RELEASE = 23,
	QST_EVC_EMERGENCY_STOP = 24, /* message = who stopped and how */
	QST_EVC_PAUSE = 25,        /* message = why */
	QST_EVC_RESUME = 26,       /* the interrupted trial is repeated */
	/* issue 5: sync out and rating slider markers */
	QST_EVC_SYNC = 27,         /* value = code on the line (0: reset), value2 = pulse ms */
	QST_EVC_RATING_MARKER = 28, /* message = the slider's token (L, C, R, 999) */
	/* Issue 6: paced trains and waveforms (docs/hdf5-schema.md, "Pulse
	 * trains"). A train's pulses follow its train_start, in order. */
	QST_EVC_STIM_WAVEFORM = 29, /* value = hottest °C, value2 = segments */
	QST_EVC_TRAIN_START = 30,  /* value = pulses, value2 = Hz; message = settings */
	QST_EVC_PULSE = 31,        /* t = command time; value = pulse 1..n,
				    * value2 = lateness s (t - scheduled time) */
	QST_EVC_PULSE_PEAK = 32,   /* value = pulse, value2 = peak measured °C */
	QST_EVC_RATING = 33,       /* t = answer; value = pulse, value2 = NRS 0..100 */
	QST_EVC_REALTIME = 34,     /* value = 1 if SCHED_FIFO, value2 = 1 if
				    * memory locked; message = what was granted */
	/* Issue 6: paradigm scripts (docs/paradigms.md). */
	QST_EVC_MARK = 35,         /* qst.mark: message = label, value, value2 */
	QST_EVC_CONDITION = 36,    /* CPM conditioning stimulus: value =
				    * intensity 0..1, value2 = 1 on / 0 off;
				    * message = what */
	QST_EVC_COUNT
};
const char *qst_event_code_name(int code);

/* Event sources: the /events/source column; names in /events/source_names. */
enum qst_event_source {
	QST_EVS_STATION = 0,
	QST_EVS_SCRIPT = 1,
	QST_EVS_SUPERVISOR = 2,
	QST_EVS_THERMAL = 3,
	QST_EVS_RESPONSE = 4,
	QST_EVS_OPERATOR = 5,    /* entered at the operator console */
	QST_EVS_PARTICIPANT = 6, /* answered by the virtual participant */
	QST_EVS_PRESSURE = 7,
	QST_EVS_VIBRATION = 8,
	QST_EVS_RATING = 9,
	QST_EVS_SYNC = 10,
	QST_EVS_COUNT
};
const char *qst_event_source_name(int source);

/* Room for every numeric field of the participant profile. */
#define QST_SIM_TRUTH_MAX 40

struct qst_session_meta {
	/* subject (pseudonym only, never a name) */
	char subject_id[64];
	char sex;                 /* 'F' or 'M' */
	int age_years;
	char site[32];            /* face, hand, foot, ... */
	char side[16];            /* left, right or "" */
	char operator_name[64];
	/* protocol */
	char protocol_name[128];
	char protocol_version[32];
	char protocol_path[256];
	const char *protocol_text; /* the whole script */
	size_t protocol_len;
	char protocol_sha256[65];
	/* station */
	char software_version[32];
	char station[64];          /* "simulated" or the station config path */
	char clock_source[32];     /* "CLOCK_MONOTONIC" or "virtual" */
	int64_t origin_utc_ns;     /* UTC of t = 0 */
	uint64_t seed;             /* simulation seed, 0 if not simulated */
	double thermode_area_cm2;  /* stored with every thermal measurement */
	/* Simulated sessions: the virtual participant's true values, written
	 * as attributes of /simulation so tests and analysts can compare. */
	int n_sim_truth;
	struct {
		char key[32];      /* e.g. "cdt_delta_c", "rt_mean_s" */
		double value;
	} sim_truth[QST_SIM_TRUTH_MAX];
	char participant_profile[32]; /* "healthy", "" when not simulated */
};

struct qst_device_record {
	char role[16];        /* "thermal", "response" */
	char driver[16];      /* "tcs2" */
	char model[64];
	char serial[64];
	char firmware[64];
	char transport[96];
};

/* One thermode sample: measured (readback) and commanded (setpoint). */
struct qst_temp_sample {
	int64_t t_ns;
	double commanded_c;
	double measured_c;    /* mean of the zones */
	double neutral_c;
	double zone_c[QST_THERMODE_ZONES];
};

/* One algometer reading (issue 4): force and pressure over the probe. */
struct qst_pressure_sample {
	int64_t t_ns;
	double force_n;
	double kpa;
};

/* One rating slider sample (issue 5), raw as it arrived: never resampled
 * here (qst-domain.md §6.4 "Sampling"). */
struct qst_rating_sample {
	int64_t t_ns;
	double value;  /* 0..100 over the configured full scale */
	int32_t raw;   /* the number as the slider sent it */
};

struct qst_event_record {
	int64_t t_ns;
	int32_t code;         /* enum qst_event_code */
	int32_t source;       /* enum qst_event_source */
	int32_t trial;        /* trial id, -1 if none */
	double value;
	double value2;
	const char *message;  /* NULL or a UTF-8 line (copied) */
};

struct qst_trial_record {
	int32_t trial_id;       /* 0-based, session-wide */
	int32_t test;           /* enum qst_param */
	int32_t repetition;     /* 1-based within the test */
	int32_t direction;      /* +1 warming, -1 cooling */
	int64_t t_start_ns;     /* trial start (ISI begins) */
	int64_t t_stop_ns;      /* back at baseline */
	int64_t t_onset_ns;     /* ramp onset */
	int64_t t_response_ns;  /* button press; -1 if none (cut-off) */
	double baseline_c;
	double rate_c_s;
	double return_rate_c_s;
	double cutoff_c;
	double value_measured;  /* measured °C at response (or cut-off) */
	double value_commanded; /* setpoint °C at response (or cut-off) */
	double latency_s;       /* response − onset (reaction-time inclusive) */
	double device_rt_s;     /* response device's own timer, NaN if none */
	int32_t key;            /* response key, -1 if none */
	int32_t quality;        /* enum qst_quality */
	int32_t flags;          /* QST_TRIAL_* */
};

struct qst_recorder;

/*
 * Create PATH (mode 0600) and PATH.journal. Refuses an existing PATH with
 * QST_ERR_EXISTS unless overwrite. Writes the metadata at once.
 */
int qst_recorder_create(const char *path, const struct qst_session_meta *meta,
			bool overwrite, struct qst_recorder **out);
int qst_recorder_add_device(struct qst_recorder *r,
			    const struct qst_device_record *dev);
/* Buffered; reaches disk at the next trial or close. */
int qst_recorder_temperature(struct qst_recorder *r,
			     const struct qst_temp_sample *s);
/* Buffered like temperature samples. */
int qst_recorder_pressure(struct qst_recorder *r,
			  const struct qst_pressure_sample *s);
int qst_recorder_rating(struct qst_recorder *r,
			const struct qst_rating_sample *s);
int qst_recorder_event(struct qst_recorder *r,
		       const struct qst_event_record *e);
/* Journal the trial and everything buffered, fsync, append to HDF5, flush. */
int qst_recorder_trial(struct qst_recorder *r,
		       const struct qst_trial_record *t);
/* Flush everything buffered (journal fsync + HDF5 flush) without a trial. */
int qst_recorder_flush(struct qst_recorder *r);
/* Mark the session complete (root attribute), flush and close. */
int qst_recorder_close(struct qst_recorder *r, bool complete);
/*
 * Call first in a program: HDF5's exit handler closes what is still open,
 * and after a close that failed (a full disk) that second close crashes
 * inside HDF5 1.10 (H5F__close_cb; disk_full.sh part 3). Every file is
 * closed explicitly, so nothing is left for it to do.
 */
void qst_h5_no_atexit(void);
/* Path of the HDF5 file. */
const char *qst_recorder_path(const struct qst_recorder *r);

struct qst_recover_report {
	int trials;
	int events;
	int samples;
	int pressure_samples;
	int rating_samples;
	int devices;
	bool complete;        /* the journal saw a clean close */
	bool truncated_tail;  /* a torn last line was dropped */
};

/* Rebuild OUT_H5 from a journal alone (refuses existing OUT unless overwrite). */
int qst_recover(const char *journal_path, const char *out_h5, bool overwrite,
		struct qst_recover_report *report, char *errbuf, size_t errlen);

#endif
