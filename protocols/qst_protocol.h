/*
 * qst protocols — the sandboxed Lua 5.4 script engine and the
 * psychophysical methods it offers to scripts (docs/protocol-api.md).
 *
 * The engine knows nothing of devices: every call a script makes that
 * touches the station goes through a struct qst_script_host, which the
 * station implements (supervised, recorded) and `qst check` implements as
 * a dry run. Method parameters arrive here already validated for type and
 * range by the engine; the station's safety supervisor still checks every
 * stimulus against the hard limits.
 */
#ifndef QST_PROTOCOLS_QST_PROTOCOL_H
#define QST_PROTOCOLS_QST_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

#define QST_PROTOCOL_MAX_DEVICES 8

/* What qst.protocol{} declares. */
struct qst_protocol_decl {
	char name[128];
	char version[32];
	char description[256];
	int n_devices;
	char devices[QST_PROTOCOL_MAX_DEVICES][16]; /* "thermal", "response" */
};

/* qst.limits{}: method of limits, ramped, RT-inclusive (qst-domain §7.1). */
struct qst_limits_params {
	int test;             /* enum qst_param: CDT, WDT, CPT, HPT */
	int direction;        /* +1 heating, -1 cooling (from the test) */
	double baseline_c;    /* default 32 */
	double rate_c_s;      /* default 1 */
	double return_rate_c_s; /* default 1 detection, 5 pain */
	double cutoff_c;      /* default 0 cooling, 50 heating */
	int repetitions;      /* default 3 */
	double isi_s;         /* time at baseline before each ramp, default 6 */
	double isi_jitter_s;  /* + uniform [0, jitter), default 2 */
};

/* qst.tsl{}: thermal sensory limen with PHS (qst-domain §2.2). */
struct qst_tsl_params {
	double baseline_c;     /* default 32 */
	double rate_c_s;       /* default 1 */
	double lower_cutoff_c; /* default 0 */
	double upper_cutoff_c; /* default 50 */
	int pairs;             /* warm+cold alternations, default 3 */
	double return_rate_c_s; /* back to baseline at the end, default 1 */
	double isi_s;          /* at baseline before the first ramp, default 6 */
};

/* ------------------------------ adaptive thermal methods (issue 6) */

/*
 * How one yes/no thermal presentation of qst.levels{} / qst.staircase{}
 * runs (qst-domain.md §7.2, §7.3, §7.5): rest at baseline for the ISI,
 * ramp to the level, hold, return; a key press from the onset until
 * window_s after the hold is a YES. Reaction-time exclusive: the level,
 * not the temperature at the press, is the answer's value.
 */
struct qst_yesno_params {
	int test;             /* enum qst_param: CDT, WDT, CPT, HPT */
	int direction;        /* +1 heating, -1 cooling (from the test) */
	double baseline_c;    /* default 32 */
	double rate_c_s;      /* ramp to the level, default 1 */
	double return_rate_c_s; /* default 1 detection, 5 pain */
	double hold_s;        /* time at the level, default 1 */
	double window_s;      /* answer window after the hold, default 2 */
	double cutoff_c;      /* most intense level: 0 cooling, 50 heating */
	double isi_s;         /* default 6 */
	double isi_jitter_s;  /* default 2 */
	double catch_p;       /* proportion of null stimuli, default 0 */
	int max_trials;       /* presentations fed to the method, default 30 */
};

/* qst.levels{}: method of levels (§7.2). */
struct qst_levels_params {
	struct qst_yesno_params yn;
	double start_c;       /* default baseline + direction × initial step */
	double initial_step_c; /* default 4 */
	double min_step_c;    /* default 0.25 */
};

/* qst.staircase{}: 1-up/n-down staircase (§7.3). */
struct qst_staircase_params {
	struct qst_yesno_params yn;
	int n_down;           /* 1, 2 or 3, default 1 */
	double start_c;       /* default baseline + direction × 4 step */
	double step_c;        /* default 1 */
	double min_step_c;    /* default = step (fixed steps) */
	int reversals;        /* stop rule, default 8 */
	int last_k;           /* threshold = mean of the last k, default 6 */
	double floor_c;       /* least intense level, default the baseline */
};

/* qst.calibrate{}: rating-target ("Pain5") calibration (§7.3, §7.4). */
struct qst_calibrate_params {
	double baseline_c;    /* default 32 */
	double start_c;       /* default 45 */
	double step_c;        /* default 1 */
	double target;        /* default 5 (nrs10) */
	double tolerance;     /* |rating − target| <= tolerance, default 0 */
	bool bracket;         /* stop between two ratings either side, default true */
	int scale;            /* enum qst_rating_scale, default nrs10 */
	double pulse_s;       /* time at the level, default 0.5 */
	double rate_c_s;      /* default 10 */
	double return_rate_c_s; /* default 10 */
	double floor_c;       /* default 40 */
	double ceiling_c;     /* default 50 (the supervisor may be lower) */
	int max_pulses;       /* per calibration, default 15 */
	int repeats;          /* default 2 */
	double rest_s;        /* between repeats, default 90 */
	double isi_s;         /* between pulses, default 10 */
};

/* ------------------------------------------- mechanical battery (issue 4) */

/* Discrete stimulus sets (qst-domain.md §1.4). */
#define QST_VONFREY_LEVELS 12   /* 0.25 .. 512 mN, factor 2 */
#define QST_PINPRICK_LEVELS 7   /* 8 .. 512 mN, factor 2 */

/* What to assign when a series runs off the end of its set (§2.4, §2.5). */
enum qst_out_of_range {
	QST_OOR_CLAMP = 0,      /* the end of the set (0.25 or 512 mN) */
	QST_OOR_NEXT_LEVEL = 1, /* the next virtual factor-2 level (0.125 / 1024 mN) */
};

/* qst.mdt{} / qst.mpt{}: DFNS modified method of limits (§2.4, §2.5). */
struct qst_series_params {
	int test;               /* QST_MDT (von Frey, detect) or QST_MPT (pinprick, sharp) */
	int series_pairs;       /* descending + ascending series pairs, default 5 */
	double start_mn;        /* first level, default 16 mN (MDT) / 16 mN (MPT) */
	int out_of_range;       /* enum qst_out_of_range, default NEXT_LEVEL */
	char site_text[64];     /* where to apply, shown to the operator */
};

/* qst.mps_dma{}: stimulus–response runs (§2.6). */
struct qst_srf_params {
	int runs;               /* default 5; each run = 7 pinpricks + 3 light touch */
	char site_text[64];
};

/* qst.wur{}: pinprick wind-up (§2.7). */
struct qst_wur_params {
	int repetitions;        /* default 5 */
	double force_mn;        /* default 256 */
	int train_length;       /* default 10 */
	double train_hz;        /* default 1 */
	char site_text[64];
};

/* qst.vdt{}: tuning-fork vibration detection (§2.8, §7.5). */
struct qst_vdt_params {
	int readings;           /* default 3 */
	bool sham;              /* one catch trial with a non-vibrating fork, default true */
	char site_text[64];
};

/* qst.ppt{}: pressure pain threshold with the algometer (§2.9). */
struct qst_ppt_params {
	int trials;             /* default 3 */
	double rate_kpa_s;      /* target ramp the operator follows, default 50 */
	double isi_s;           /* rest between trials, default 10 */
	char site_text[64];
};

/* ------------------------------------------------ timed thermal stimuli */

/*
 * qst.pulse_train{}: identical heat pulses at fixed times, each rated or
 * not (temporal summation of pain, qst-domain.md §6.1). Each pulse ramps
 * from the baseline to the peak at rise, holds, and falls at fall; its
 * command goes out at t0 + k / frequency from the station's pacer.
 */
#define QST_TRAIN_MAX_PULSES 100

struct qst_pulse_train_params {
	double peak_c;          /* required */
	double baseline_c;      /* default 40 (the TCS II neutral maximum) */
	int pulses;             /* default 10 */
	double frequency_hz;    /* default 0.4 (Staud, §6.1) */
	double hold_s;          /* at peak, default 0.5 (Kell, §6.1) */
	double rise_c_s;        /* default 10 */
	double fall_c_s;        /* default 10 */
	bool rate[QST_TRAIN_MAX_PULSES]; /* rate[k]: ask a rating after pulse k+1 */
	char site_text[64];
};

/*
 * qst.waveform{}: an arbitrary profile, segment by segment; each either a
 * rate (°C/s) or a duration (s) to its end temperature, the other NaN.
 */
#define QST_WAVEFORM_MAX_SEGMENTS 64

struct qst_waveform_params {
	int n;
	struct {
		double to_c;
		double rate_c_s;    /* NaN when the duration is given */
		double duration_s;  /* NaN when the rate is given */
	} seg[QST_WAVEFORM_MAX_SEGMENTS];
	double return_rate_c_s; /* back to baseline afterwards, default 5 */
};

/*
 * qst.option(name, default): a number the run gives the script
 * (`qst run --set name=value`), e.g. a subject's calibrated temperature.
 */
#define QST_SCRIPT_MAX_OPTIONS 16

struct qst_script_option {
	char key[32];
	double value;
	bool read;      /* the script asked for it (set by the host) */
};

/*
 * qst.condition{}: the conditioning stimulus of CPM (qst-domain.md §6.3),
 * applied by the operator (a cold-water bath): it starts or stops.
 */
struct qst_condition_params {
	bool on;
	double intensity;  /* 0..1; NaN when off */
	char what[128];    /* what the operator applies, and where */
};

/* qst.ask{}: one operator-guided step with a typed answer. */
enum qst_answer_kind {
	QST_ANSWER_YESNO = 0,      /* detected yes/no */
	QST_ANSWER_SHARP_BLUNT = 1,
	QST_ANSWER_RATING = 2,     /* NRS 0..100 */
	QST_ANSWER_EIGHTHS = 3,    /* tuning fork x/8, 0..8 in steps of 0.5 */
};

/* qst.safety{}: limits a protocol tightens, by name (docs/protocol-api.md,
 * "Safety limits"). Names and directions are the station's business. */
#define QST_SAFETY_MAX_KEYS 24

struct qst_safety_params {
	int n;
	struct {
		char key[32];
		double value;
	} item[QST_SAFETY_MAX_KEYS]; /* sorted by key */
};

/*
 * The station side of a script. Every callback returns QST_OK or a negative
 * qst_err; on error it fills errbuf (NUL-terminated) and the engine raises a
 * Lua error carrying that text, so the script stops unless it catches it.
 */
struct qst_script_host {
	int (*declare)(void *user, const struct qst_protocol_decl *decl,
		       char *errbuf, size_t errlen);
	int (*section)(void *user, const char *title, char *errbuf,
		       size_t errlen);
	int (*instruct)(void *user, const char *text, char *errbuf,
			size_t errlen);
	int (*limits)(void *user, const struct qst_limits_params *p,
		      char *errbuf, size_t errlen);
	int (*tsl)(void *user, const struct qst_tsl_params *p, char *errbuf,
		   size_t errlen);
	int (*wait)(void *user, double seconds, char *errbuf, size_t errlen);
	int (*not_done)(void *user, int test, const char *reason,
			char *errbuf, size_t errlen);
	void (*log)(void *user, const char *message);
	/* Issue 4: the mechanical battery and operator-guided steps. */
	int (*series)(void *user, const struct qst_series_params *p,
		      char *errbuf, size_t errlen);
	int (*srf)(void *user, const struct qst_srf_params *p, char *errbuf,
		   size_t errlen);
	int (*wur)(void *user, const struct qst_wur_params *p, char *errbuf,
		   size_t errlen);
	int (*vdt)(void *user, const struct qst_vdt_params *p, char *errbuf,
		   size_t errlen);
	int (*ppt)(void *user, const struct qst_ppt_params *p, char *errbuf,
		   size_t errlen);
	/* A single question: *value gets the answer (0/1, rating, x/8). */
	int (*ask)(void *user, const char *text, int kind, double *value,
		   char *errbuf, size_t errlen);
	/* Issue 6: adaptive thermal methods. *threshold gets the estimate
	 * (NaN when the run found none), *false_alarms the YES to null
	 * stimuli; calibrate's *result is the mean calibrated level. */
	int (*levels)(void *user, const struct qst_levels_params *p,
		      double *threshold, int *false_alarms, char *errbuf,
		      size_t errlen);
	int (*staircase)(void *user, const struct qst_staircase_params *p,
			 double *threshold, int *false_alarms, char *errbuf,
			 size_t errlen);
	int (*calibrate)(void *user, const struct qst_calibrate_params *p,
			 double *result, char *errbuf, size_t errlen);
	/* Seconds since session start, for scripts that pace themselves. */
	double (*now)(void *user);
	/* Tighten the station's limits for the rest of the run: all keys or
	 * none; QST_ERR_LIMIT for a value looser than the one in force. */
	int (*safety)(void *user, const struct qst_safety_params *p,
		      char *errbuf, size_t errlen);
	/* Issue 6: paced pulse trains and arbitrary waveforms. */
	int (*pulse_train)(void *user, const struct qst_pulse_train_params *p,
			   char *errbuf, size_t errlen);
	int (*waveform)(void *user, const struct qst_waveform_params *p,
			char *errbuf, size_t errlen);
	/* qst.option(): 1 with *value set when the run gives key, else 0. */
	int (*option)(void *user, const char *key, double *value);
	/* Issue 5: a marker code (1..255) on the sync line for pulse_ms. */
	int (*sync)(void *user, int code, int pulse_ms, char *errbuf,
		    size_t errlen);
	/* Issue 6: a labelled design point for the analysis (value and
	 * value2 NaN when not given), and the CPM conditioning stimulus. */
	int (*mark)(void *user, const char *label, double value, double value2,
		    char *errbuf, size_t errlen);
	int (*condition)(void *user, const struct qst_condition_params *p,
			 char *errbuf, size_t errlen);
};

/* Resource limits of one script run. */
struct qst_script_limits {
	size_t memory_bytes;    /* Lua heap cap, default 32 MiB */
	uint64_t instructions;  /* VM instruction budget, default 200 million */
};

#define QST_SCRIPT_DEFAULT_MEMORY ((size_t)32 << 20)
#define QST_SCRIPT_DEFAULT_INSTRUCTIONS UINT64_C(200000000)

/*
 * Run a protocol script to completion. chunkname names it in messages
 * ("dfns_thermal.lua"). Returns QST_OK, QST_ERR_SCRIPT (syntax or runtime
 * error, instruction budget, memory cap — errbuf says which, with the line),
 * or the negative code a host callback returned (e.g. QST_ERR_LIMIT,
 * QST_ERR_ABORTED) when that error ended the script.
 */
int qst_script_run(const char *text, size_t len, const char *chunkname,
		   const struct qst_script_limits *limits,
		   const struct qst_script_host *host, void *user,
		   char *errbuf, size_t errlen);

/*
 * Evaluate a data file — a Lua chunk that returns a table, such as a
 * station configuration — under the same heap cap and instruction budget
 * as a protocol script, in a state with no library at all: no functions
 * to call, only Lua's own syntax. read() gets the returned table as
 * argument 1, runs protected and refuses contents with luaL_error (its
 * message, prefixed with chunkname, ends up in errbuf). Returns QST_OK,
 * QST_ERR_SCRIPT (syntax, budget, memory, or read() raised), or
 * QST_ERR_NOMEM/QST_ERR_ARG.
 */
struct lua_State;
int qst_data_eval(const char *text, size_t len, const char *chunkname,
		  const struct qst_script_limits *limits,
		  int (*read)(struct lua_State *L, void *user), void *user,
		  char *errbuf, size_t errlen);

#endif
