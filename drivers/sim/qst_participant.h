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
	char name[32];          /* "healthy", "hyperalgesic", ... */
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

#endif
