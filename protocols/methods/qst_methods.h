/*
 * qst methods — psychophysical procedures in C, run against a "rig": the
 * session's supervised, recorded view of the station. Methods decide what
 * to present and when; the rig owns devices, safety and the recorder, so
 * a method cannot reach a device except through the supervisor.
 */
#ifndef QST_PROTOCOLS_METHODS_QST_METHODS_H
#define QST_PROTOCOLS_METHODS_QST_METHODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_drivers.h"
#include "qst_participant.h"
#include "qst_protocol.h"
#include "qst_recorder.h"

struct qst_press {
	int64_t t_ns;        /* host arrival time of the key press */
	int key;
	double device_rt_s;  /* response device's own timer, NaN if none */
};

/* What the operator applies in a manual step (recorded, and felt by the
 * virtual participant). Append only: stored as codes. */
enum qst_stimulus {
	QST_STIM_NONE = 0,
	QST_STIM_VONFREY = 1,      /* value = force mN */
	QST_STIM_PINPRICK = 2,     /* value = force mN */
	QST_STIM_COTTON_WISP = 3,  /* light touch, DMA (§1.4) */
	QST_STIM_QTIP = 4,
	QST_STIM_BRUSH = 5,
	QST_STIM_PINPRICK_TRAIN = 6, /* value = force mN, train of 10 */
	QST_STIM_TUNING_FORK = 7,  /* 64 Hz Rydel-Seiffer */
	QST_STIM_SHAM_FORK = 8,    /* non-vibrating catch fork (§7.5) */
	QST_STIM_COUNT
};
const char *qst_stimulus_name(int stimulus);

/*
 * After an emergency stop or a watchdog fault the session pauses; if the
 * operator resumes, the rig op in progress returns QST_ERR_INTERRUPTED
 * with the thermode back at baseline, and the method repeats the trial
 * (the interrupted one was never recorded as a result). Device-driven
 * methods (limits, TSL, PPT) do; a test interrupted more than this often
 * ends the session.
 */
#define QST_METHOD_MAX_RESUMES 3

static inline bool qst_method_should_repeat(int *ret, int *resumes)
{
	if (*ret != QST_ERR_INTERRUPTED || *resumes >= QST_METHOD_MAX_RESUMES)
		return false;
	++*resumes;
	*ret = QST_OK;
	return true;
}

struct qst_question {
	int test;               /* enum qst_param the step belongs to */
	int kind;               /* enum qst_answer_kind */
	const char *text;       /* what the operator does and asks */
	int stimulus;           /* enum qst_stimulus */
	double stimulus_value;  /* mN, or 0 */
};

struct qst_answer {
	double value;           /* 0/1 (no/yes, blunt/sharp), rating 0..100, x/8 */
	int64_t t_ns;           /* when the answer was entered */
	bool not_done;          /* the operator ended the test: reason says why */
	char reason[128];
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

	/* ---- issue 4: operator-guided steps and the pressure algometer ---- */
	/*
	 * Show one step to the operator and collect a valid answer (invalid
	 * entries are re-asked; "repeat" and notes are handled and recorded
	 * inside). On the simulated station the virtual participant answers.
	 * QST_OK with a->not_done set when the operator ends the test. The
	 * rig records the application with its answer (QST_EVC_STIMULUS) or
	 * the not-done with its reason (QST_EVC_TEST_NOT_DONE).
	 */
	int (*ask)(void *rig, const struct qst_question *q, struct qst_answer *a);
	/* A timed cue for the operator ("apply now"), recorded as an event. */
	void (*cue)(void *rig, const char *text);
	/* Tell the operator to start pressing at rate (the simulated hand
	 * does so on the simulated station); live rate feedback follows. */
	int (*pressure_apply)(void *rig, double rate_kpa_s);
	int (*pressure_release)(void *rig);
	/* Latest algometer reading at or before t, kPa (NaN if none). */
	double (*pressure_at)(void *rig, int64_t t_ns);
	/* Wait until the algometer reads below kpa (released), or deadline. */
	int (*await_pressure_below)(void *rig, double kpa, int64_t deadline_ns);

	/* ---- issue 6: paced trains and waveforms ---- */
	/*
	 * Wait for due_ns with the station's pacer (qst_pacer): device events
	 * are handled until just before it -- a key press meanwhile returns 1
	 * with *press filled, as await_press -- then a precise wait to due_ns
	 * itself; 0 at due_ns. Optional: NULL falls back to await_press.
	 */
	int (*pace)(void *rig, int64_t due_ns, struct qst_press *press);
	/* Supervised: every segment checked, then the profile played; back
	 * to baseline at return_c_s afterwards. */
	int (*waveform)(void *rig, const struct qst_wave_segment *seg, size_t n,
			double return_c_s);
	/*
	 * As ask, for an answer wanted by deadline_ns (a rating between two
	 * pulses): the virtual participant answers by then; an operator may
	 * take longer, and the next pulse is late (and recorded so).
	 */
	int (*ask_by)(void *rig, const struct qst_question *q,
		      struct qst_answer *a, int64_t deadline_ns);
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
/*
 * The start every thermal threshold trial shares (limits, levels,
 * staircases): the inter-stimulus interval from t->t_start_ns (isi_s plus
 * a uniform share of jitter_s), the subject's task for the test (pain for
 * CPT/HPT, detection otherwise), the pad's timer zeroed, and the onset
 * stamped in t->t_onset_ns. QST_OK or the rig's error.
 */
int qst_method_thermal_onset(const struct qst_rig_ops *ops, void *rig,
			     int test, int direction, double baseline_c,
			     double isi_s, double jitter_s,
			     struct qst_trial_record *t);
void qst_method_take_response(const struct qst_rig_ops *ops, void *rig,
			      const struct qst_press *press, bool pressed,
			      double cutoff_c, struct qst_trial_record *t);
/* Close a begun thermal trial that an error ended (a device fault, a
 * refusal): the row is kept, flagged QST_TRIAL_ABORTED with no value, so
 * analysis never takes it for a result. Returns err. */
int qst_method_abort_trial(const struct qst_rig_ops *ops, void *rig,
			   struct qst_trial_record *t, int err);
/* Wait until the thermode is back at baseline after a return from from_c
 * at rate; a DEVICE_FAULT event and QST_ERR_DEVICE when it is not in time. */
int qst_method_settle(const struct qst_rig_ops *ops, void *rig,
		      double baseline, double from_c, double rate);

/*
 * Issue 4 methods (qst-domain.md §2.4–§2.9). Each records one trial row
 * per value the analysis aggregates (see analysis/aggregate.c for the
 * per-test conventions). Every single application goes through ops->ask,
 * which records it (QST_EVC_STIMULUS: value = stimulus_value, value2 =
 * the answer); the methods add what only they know (the MPS/DMA order,
 * a felt sham fork, late train cues) as QST_EVC_LOG events.
 *
 * Manual trial rows: value_measured = the aggregated value (mN for
 * MDT/MPT, NRS rating for MPS/DMA/WUR, x/8 for VDT), value_commanded =
 * the nominal force in mN where there is one (NaN for light touch and
 * the fork), repetition = series / run / repetition / reading index,
 * direction as in aggregate.c (MDT/MPT -1 descending, +1 ascending; WUR
 * -1 single, +1 train; else 0); thermal fields NaN, key -1.
 *
 * Return: QST_OK, a negative qst_err, or QST_METHOD_NOT_DONE when the
 * operator ended the test (answer.not_done). ops->ask has then recorded
 * QST_EVC_TEST_NOT_DONE with the reason; the method has closed the open
 * trial as QST_TRIAL_ABORTED and kept every row finished before it. The
 * host marks the test not done; it is not a session error.
 */
#define QST_METHOD_NOT_DONE 1

/* DFNS modified method of limits (§2.4 MDT, §2.5 MPT): descending and
 * ascending series alternate, starting with a descending one at
 * start_mn; each series starts one level beyond the previous end point.
 * An end point off the set is assigned by p->out_of_range and flagged
 * QST_TRIAL_OUT_OF_RANGE. */
int qst_method_series(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_series_params *p);
/* §2.6: runs of the 7 pinpricks and 3 light-touch stimuli, each run in
 * its own pseudo-random order drawn from seed (recorded per run). */
int qst_method_srf(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_srf_params *p, uint64_t seed);
/* §2.7: single pinprick, then a train paced by the station clock with a
 * cue (ops->cue) at exactly t0 + k / train_hz; both rated. */
int qst_method_wur(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_wur_params *p);
/* §2.8, §7.5: fork readings; the optional sham fork is asked at a
 * pseudo-random place (ops->uniform). A sham felt flags every VDT row
 * QST_TRIAL_RESPONSE_SUSPECT, so the rows are written at the end. */
int qst_method_vdt(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_vdt_params *p);
/*
 * §2.9, §8.3: per trial, rest at no pressure, the operator ramps the
 * algometer at p->rate_kpa_s until the subject presses (value = kPa read
 * at the press) or the reading passes QST_PPT_CEILING_KPA or
 * QST_PPT_MAX_RAMP_S pass (QST_TRIAL_CUTOFF_REACHED, value = the last
 * reading, a lower bound). Row: direction +1, baseline_c 0, cutoff_c =
 * the ceiling in kPa, rate_c_s = the ramp rate achieved in kPa/s.
 */
int qst_method_ppt(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_ppt_params *p);
#define QST_PPT_CEILING_KPA 2000.0 /* hand-held device maximum, §8.3 */
#define QST_PPT_MAX_RAMP_S 60.0
/*
 * Least-squares slope of kpa over t_s (kPa/s): the ramp rate achieved,
 * for the trial row and the operator's live feedback. NaN when n < 2,
 * an input is NULL or not finite, or all t_s are equal.
 */
double qst_ppt_rate_kpa_s(const double *t_s, const double *kpa, size_t n);

/*
 * Issue 6, qst-domain.md §6.1: a train of identical heat pulses, each
 * commanded at t0 + k / frequency from ops->pace, rated after the pulses
 * p->rate[] asks for. Recorded as events (no trial rows: TSP is not a
 * DFNS parameter): QST_EVC_TRAIN_START, then per pulse QST_EVC_PULSE at
 * its command (value = pulse, value2 = lateness s), QST_EVC_RATING (value
 * = pulse, value2 = rating) and QST_EVC_PULSE_PEAK (value = pulse, value2
 * = hottest readback of the pulse). The thermode stays at p->baseline_c.
 * Return: QST_OK, QST_METHOD_NOT_DONE, or a negative qst_err.
 */
int qst_method_pulse_train(const struct qst_rig_ops *ops, void *rig,
			   const struct qst_pulse_train_params *p);

/*
 * Issue 6: adaptive thermal methods, reaction-time exclusive (qst-domain.md
 * §7.2, §7.3), with optional null stimuli (§7.5). The decision cores are
 * in qst_adaptive.h; these runners present what they choose.
 *
 * One trial row per presentation, flagged QST_TRIAL_ADAPTIVE (analysis
 * leaves such rows out of the DFNS parameter: an RT-exclusive threshold
 * is not comparable to the DFNS references, §7.1): repetition = the
 * presentation's number in the run, value_commanded = the level (the
 * baseline for a null stimulus, also flagged QST_TRIAL_CATCH),
 * value_measured = the readback at the end of the hold, t_response_ns /
 * key / latency_s = the press (-1 / -1 / NaN for a NO), cutoff_c = the
 * most intense level allowed. A YES to a null stimulus is a false alarm,
 * flagged QST_TRIAL_RESPONSE_SUSPECT. The estimate is recorded as a
 * QST_EVC_LOG event (value = threshold, value2 = false alarms).
 */
struct qst_adaptive_result {
	double threshold;     /* NaN when the run found none */
	unsigned end;         /* QST_ADAPT_END_* */
	int presentations;    /* answers fed to the method */
	int n_catch;          /* null stimuli presented */
	int false_alarms;
};

/* catch_seed draws the null-stimulus schedule (record it). */
int qst_method_levels(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_levels_params *p, uint64_t catch_seed,
		      struct qst_adaptive_result *out);
int qst_method_staircase(const struct qst_rig_ops *ops, void *rig,
			 const struct qst_staircase_params *p,
			 uint64_t catch_seed, struct qst_adaptive_result *out);

/*
 * §7.3 "Pain5": p->repeats calibrations from p->start_c, p->rest_s apart;
 * each pulse ramps to the level, holds p->pulse_s, returns, and the
 * rating is asked through ops->ask (recorded there as QST_EVC_STIMULUS:
 * value2 = the rating, the message names the level and the scale; the
 * pulse itself is the STIM_RAMP event before it). No
 * trial rows: the calibration is not a DFNS parameter. *result = the mean
 * of the calibrations that reached the target, NaN if none did; each
 * outcome is a QST_EVC_LOG event. QST_METHOD_NOT_DONE when the operator
 * ended it.
 */
int qst_method_calibrate(const struct qst_rig_ops *ops, void *rig,
			 const struct qst_calibrate_params *p, double *result);

/* TSL quality of a response key: 1 cold, 2 warm, 3 hot, 4 burning. */
int qst_quality_from_key(int key);

#endif
