/*
 * The virtual participant: a simulated subject with known true thresholds,
 * who feels the simulated thermode's plate temperature and answers on the
 * simulated response pad after a reaction time. It is what makes every
 * recorded value in a simulated session checkable against a truth.
 *
 * Detection and pain thresholds are reached when the plate crosses the
 * true threshold (plus per-trial noise); the press follows after a
 * lognormal reaction time, so ramped (RT-inclusive) methods overshoot by
 * about rate × RT, as in real subjects (qst-domain.md §7.1).
 */
#ifndef QST_DRIVERS_SIM_QST_PARTICIPANT_H
#define QST_DRIVERS_SIM_QST_PARTICIPANT_H

#include <stdbool.h>
#include <stdint.h>

#include "qst_core.h"

struct qst_participant_profile {
	char name[32];          /* "healthy", "sensitized", ... */
	double cdt_delta_c;     /* cold detection: degrees below the adapted temperature */
	double wdt_delta_c;     /* warm detection: degrees above */
	double tsl_c;           /* difference limen during TSL alternations */
	double phs_probability; /* a cold TSL ramp felt as warm/hot */
	double cpt_c;           /* cold pain threshold, absolute °C */
	double hpt_c;           /* heat pain threshold, absolute °C */
	double detect_sd_c;     /* trial-to-trial threshold noise, detection */
	double pain_sd_c;       /* trial-to-trial threshold noise, pain */
	double rt_mean_s;       /* reaction time (lognormal) */
	double rt_sd_s;
	/* mechanical (issue 4), qst-domain.md §2.4–§2.9 */
	double mdt_mn;          /* tactile detection threshold, mN (50% point) */
	double mpt_mn;          /* pinprick "sharp" threshold, mN (50% point) */
	double mech_spread;     /* psychometric spread in log10 mN */
	double mps_r512;        /* mean NRS rating of a 512 mN pinprick */
	double mps_exponent;    /* rating ~ force^exponent */
	double dma_rating;      /* mean NRS rating of light touch (0 = no allodynia) */
	double wur_ratio;       /* train rating / single rating */
	double vdt_eighths;     /* tuning-fork reading x/8 */
	double ppt_kpa;         /* pressure pain threshold, kPa */
	double pressure_sd_kpa; /* trial-to-trial PPT noise */
	/* Safety tests (issue 7): at this session time (s; 0 = never) the
	 * subject presses key 1 and holds it for PANIC_HOLD_S, as a subject
	 * who wants everything stopped would. */
	double panic_at_s;
	/*
	 * Heat pain perception (issue 6), the model behind the continuous
	 * slider and the heat NRS ratings; docs/simulation.md has the
	 * equations and the truths they give.
	 */
	double heat_p50_c;      /* plate rated 50/100 when held (0 at hpt_c) */
	double heat_slope;      /* NRS points per degC at heat_p50_c */
	/* Temporal summation, qst-domain.md §6.1: a pulse whose end lowers the
	 * static pain by D (0..1) multiplies later pain by 1 + ts_gain * D,
	 * fading with ts_tau_s, so only trains at >= ~0.33 Hz sum up. */
	double ts_gain;
	double ts_tau_s;
	/* CPM, §6.3: fraction of heat pain removed during a remote
	 * conditioning stimulus of intensity 1 (< 0 facilitates); the effect
	 * fades with cpm_tau_s after the conditioning ends. */
	double cpm_efficiency;
	double cpm_tau_s;
	/* Offset analgesia, §6.4: a fall of 1 degC that leaves the stimulus
	 * painful removes this fraction of the pain on top of the fall's own
	 * effect (pro rata for smaller falls), fading with oa_tau_s. */
	double oa_depth;
	double oa_tau_s;
	/* The continuous (eVAS) slider: first-order lag, noise in NRS points
	 * (also the scatter of heat NRS answers). */
	double rating_tau_s;
	double rating_sd;
};
#define QST_PARTICIPANT_PANIC_HOLD_S 3.0

/* Built-in profiles; QST_ERR_NOTFOUND for an unknown name. */
int qst_participant_profile_builtin(const char *name,
				    struct qst_participant_profile *out);
/* Names of the built-in profiles, NULL-terminated. */
const char *const *qst_participant_profile_names(void);
/*
 * Override profile fields from "key=value,key=value" (keys as the struct
 * fields, e.g. "hpt_c=41.5,rt_mean_s=0.5"); errbuf names a bad key/value.
 */
int qst_participant_profile_parse(struct qst_participant_profile *p,
				  const char *spec, char *errbuf,
				  size_t errlen);

/* The profile's numeric fields by index, for recording the truth:
 * returns the key ("hpt_c") and sets *value, or NULL past the end. */
int qst_participant_profile_field_count(void);
const char *qst_participant_profile_field(const struct qst_participant_profile *p,
					  int i, double *value);

/* What the subject has been asked to do. */
enum qst_task_kind {
	QST_TASK_NONE = 0,
	QST_TASK_DETECT,  /* press at the first change (cold/warm) */
	QST_TASK_PAIN,    /* press when it becomes painful */
	QST_TASK_TSL,     /* press at every change, key = quality */
	QST_TASK_PRESSURE_PAIN, /* press when the algometer starts to hurt */
};

struct qst_task {
	enum qst_task_kind kind;
	int direction;        /* +1 warm/heat, -1 cold */
	double reference_c;   /* adapted temperature (baseline) */
};

/* Keys the participant uses for TSL qualities (XID keys 1..4). */
#define QST_KEY_COLD 1
#define QST_KEY_WARM 2
#define QST_KEY_HOT 3
#define QST_KEY_BURNING 4

/*
 * The task as one text line, for a participant behind real ports (the
 * station's participant link, qst_simrig_listen): "task KIND DIR REF".
 * format returns the length written; parse returns QST_OK or QST_ERR_DATA.
 */
int qst_task_format(const struct qst_task *task, char *buf, size_t len);
int qst_task_parse(const char *line, struct qst_task *task);

struct qst_participant;

/* Called with (t_ns, key, pressed) when the participant acts. */
typedef int (*qst_participant_press_fn)(void *user, int64_t t_ns, int key,
					bool pressed);

int qst_participant_new(const struct qst_participant_profile *profile,
			uint64_t seed, qst_participant_press_fn press,
			void *press_user, struct qst_participant **out);
void qst_participant_free(struct qst_participant *p);
void qst_participant_set_task(struct qst_participant *p,
			      const struct qst_task *task, int64_t t_ns);
/*
 * The plate temperature felt at t_ns. Threshold crossings between two
 * observations are placed by linear interpolation, so the press time does
 * not depend on how often the participant is stepped.
 */
void qst_participant_feel(struct qst_participant *p, int64_t t_ns,
			  double plate_c);

/*
 * Manual tests: what the subject answers to one applied stimulus (answer
 * kind as enum qst_answer_kind, stimulus as enum qst_stimulus): 0/1 for
 * yes/no and blunt/sharp, an NRS 0..100 rating, or a reading x/8.
 */
double qst_participant_answer(struct qst_participant *p, int test,
			      int stimulus, double stimulus_value, int kind);
/* The algometer pressure felt at t_ns (kPa), like qst_participant_feel. */
void qst_participant_feel_pressure(struct qst_participant *p, int64_t t_ns,
				   double kpa);

/*
 * Heat pain (issue 6). Perception is built from the plate history given to
 * qst_participant_feel; between two observations the plate is taken as
 * constant. A heat rating asked through qst_participant_answer (kind
 * rating, stimulus 0 = none, as a script's qst.ask gives) is the peak pain
 * felt since the previous such answer, with rating_sd scatter.
 */

/* Static pain (NRS 0..100) of a plate held at plate_c: 0 up to hpt_c,
 * 50 at heat_p50_c, heat_slope points per degC there. */
double qst_participant_profile_heat_pain(const struct qst_participant_profile *pr,
					 double plate_c);
/* The model's pain now (NRS 0..100, no noise, no lag): the truth that
 * the slider follows. */
double qst_participant_pain(const struct qst_participant *p);
/*
 * The continuous slider position at t_ns (>= the last observation), an
 * integer 0..100: the pain through a first-order lag of rating_tau_s plus
 * rating_sd noise; it rests at 0 while nothing hurts. The noise comes
 * from a generator of its own, so sampling the slider changes nothing
 * else the participant does.
 */
double qst_participant_rating(struct qst_participant *p, int64_t t_ns);
/*
 * A remote conditioning stimulus (CPM), e.g. the operator-guided cold
 * water bath: on at t_ns with intensity 0..1, or off (intensity ignored).
 */
void qst_participant_condition(struct qst_participant *p, int64_t t_ns,
			       double intensity, bool on);
/*
 * The expected R_n - R_1 (NRS points) of a train of n identical pulses
 * from base_c to peak_c, pulse onsets isi_s apart, rise and fall taking
 * ramp_s each and the peak held hold_s, rated at their peak: the closed
 * form of the temporal-summation model (docs/simulation.md), for tests
 * and paradigm scripts to check against. Ignores the 100 ceiling.
 */
double qst_participant_profile_tsp_truth(const struct qst_participant_profile *pr,
					 double base_c, double peak_c,
					 double isi_s, double ramp_s,
					 double hold_s, int n);

#endif
