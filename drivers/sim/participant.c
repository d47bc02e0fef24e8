/*
 * The virtual participant (see qst_participant.h).
 */
#define LOG_PREFIX "participant: "

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qst_participant.h"

/* A press is held this long before release, like a finger on a key. */
#define PRESS_HOLD_NS (150 * QST_NS_PER_MS)
/* Nobody answers faster than this (qst-domain.md §7.5 calls < 100 ms suspect). */
#define RT_FLOOR_S 0.12

struct qst_participant {
	struct qst_participant_profile prof;
	struct qst_rng rng;
	qst_participant_press_fn press;
	void *press_user;
	struct qst_task task;
	bool armed;            /* waiting for a threshold crossing */
	double level_c[2];     /* [0] cold side, [1] warm side; NAN = none */
	int64_t pending_ns;    /* a press is scheduled (TSL re-arms after) */
	int64_t last_t;
	double last_c;
	bool have_last;
};

/*
 * Built-in profiles. "healthy" sits near the DFNS reference means for a
 * young adult's hand (qst-domain.md §4.2). "hyperalgesic" has cold and
 * heat pain thresholds far enough from the means that z leaves the ±1.96
 * band at the foot (where the reference SDs are narrower than at the
 * hand); "hypoesthetic" has a thermal detection loss with PHS.
 */
static const struct qst_participant_profile builtin_profiles[] = {
	/* name, CDT, WDT, TSL, PHS p, CPT, HPT, detect sd, pain sd, RT, RT sd */
	{ "healthy", 0.8, 1.6, 2.8, 0.0, 12.0, 44.0, 0.15, 0.8, 0.45, 0.08 },
	{ "hyperalgesic", 0.8, 1.6, 2.8, 0.0, 28.5, 40.0, 0.15, 0.5, 0.45,
	  0.08 },
	{ "hypoesthetic", 5.5, 9.0, 14.0, 0.67, 4.0, 48.0, 0.4, 0.6, 0.55,
	  0.10 },
};

#define N_PROFILES (sizeof(builtin_profiles) / sizeof(builtin_profiles[0]))

const char *const *qst_participant_profile_names(void)
{
	static const char *names[N_PROFILES + 1];
	for (size_t i = 0; i < N_PROFILES; i++)
		names[i] = builtin_profiles[i].name;
	names[N_PROFILES] = NULL;
	return names;
}

int qst_participant_profile_builtin(const char *name,
				    struct qst_participant_profile *out)
{
	for (size_t i = 0; i < N_PROFILES; i++) {
		if (strcmp(builtin_profiles[i].name, name) == 0) {
			*out = builtin_profiles[i];
			return QST_OK;
		}
	}
	return QST_ERR_NOTFOUND;
}

struct profile_field {
	const char *key;
	size_t offset;
	double min, max;
};

#define FIELD(k, lo, hi) { #k, offsetof(struct qst_participant_profile, k), lo, hi }
static const struct profile_field profile_fields[] = {
	FIELD(cdt_delta_c, 0.01, 32.0), FIELD(wdt_delta_c, 0.01, 18.0),
	FIELD(tsl_c, 0.01, 40.0),       FIELD(phs_probability, 0.0, 1.0),
	FIELD(cpt_c, -10.0, 32.0),      FIELD(hpt_c, 32.0, 60.0),
	FIELD(detect_sd_c, 0.0, 10.0),  FIELD(pain_sd_c, 0.0, 10.0),
	FIELD(rt_mean_s, 0.15, 5.0),    FIELD(rt_sd_s, 0.0, 2.0),
};
#undef FIELD

static int set_profile_field(struct qst_participant_profile *p,
			     const char *key, const char *value, char *errbuf,
			     size_t errlen)
{
	for (size_t i = 0; i < sizeof(profile_fields) / sizeof(profile_fields[0]); i++) {
		const struct profile_field *f = &profile_fields[i];
		if (strcmp(f->key, key) != 0)
			continue;
		char *end;
		errno = 0;
		double v = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(v) ||
		    v < f->min || v > f->max) {
			snprintf(errbuf, errlen,
				 "participant field %s: '%s' is not a number in %g..%g",
				 key, value, f->min, f->max);
			return QST_ERR_ARG;
		}
		*(double *)((char *)p + f->offset) = v;
		return QST_OK;
	}
	snprintf(errbuf, errlen, "unknown participant field '%s'", key);
	return QST_ERR_ARG;
}

int qst_participant_profile_parse(struct qst_participant_profile *p,
				  const char *spec, char *errbuf,
				  size_t errlen)
{
	char *copy = strdup(spec);
	if (!copy)
		return QST_ERR_NOMEM;
	int ret = QST_OK;
	char *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item && ret == QST_OK;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			snprintf(errbuf, errlen,
				 "participant setting '%s' is not key=value", item);
			ret = QST_ERR_ARG;
			break;
		}
		*eq = '\0';
		ret = set_profile_field(p, item, eq + 1, errbuf, errlen);
	}
	free(copy);
	return ret;
}

int qst_participant_new(const struct qst_participant_profile *profile,
			uint64_t seed, qst_participant_press_fn press,
			void *press_user, struct qst_participant **out)
{
	struct qst_participant *p = calloc(1, sizeof(*p));
	if (!p)
		return QST_ERR_NOMEM;
	p->prof = *profile;
	qst_rng_seed(&p->rng, seed);
	p->press = press;
	p->press_user = press_user;
	p->pending_ns = -1;
	*out = p;
	return QST_OK;
}

void qst_participant_free(struct qst_participant *p)
{
	free(p);
}

static double reaction_time_s(struct qst_participant *p)
{
	double m = p->prof.rt_mean_s, s = p->prof.rt_sd_s;
	double sigma2 = log(1.0 + (s * s) / (m * m));
	double mu = log(m) - sigma2 / 2.0;
	double rt = exp(qst_rng_normal(&p->rng, mu, sqrt(sigma2)));
	return rt < RT_FLOOR_S ? RT_FLOOR_S : rt;
}

/* Draw this trial's thresholds around the true values. */
static void arm(struct qst_participant *p, double reference_c)
{
	const struct qst_participant_profile *pr = &p->prof;
	double sd_d = pr->detect_sd_c, sd_p = pr->pain_sd_c;
	p->level_c[0] = p->level_c[1] = NAN;
	switch (p->task.kind) {
	case QST_TASK_DETECT:
		if (p->task.direction < 0)
			p->level_c[0] = reference_c -
					fabs(qst_rng_normal(&p->rng, pr->cdt_delta_c, sd_d));
		else
			p->level_c[1] = reference_c +
					fabs(qst_rng_normal(&p->rng, pr->wdt_delta_c, sd_d));
		break;
	case QST_TASK_PAIN:
		if (p->task.direction < 0)
			p->level_c[0] = qst_rng_normal(&p->rng, pr->cpt_c, sd_p);
		else
			p->level_c[1] = qst_rng_normal(&p->rng, pr->hpt_c, sd_p);
		break;
	case QST_TASK_TSL:
		p->level_c[0] = reference_c -
				fabs(qst_rng_normal(&p->rng, pr->tsl_c, sd_d));
		p->level_c[1] = reference_c +
				fabs(qst_rng_normal(&p->rng, pr->tsl_c, sd_d));
		break;
	case QST_TASK_NONE:
		break;
	}
	p->armed = p->task.kind != QST_TASK_NONE;
	if (p->armed)
		qst_spew("armed: cold side %.3f, warm side %.3f degC",
			 p->level_c[0], p->level_c[1]);
}

void qst_participant_set_task(struct qst_participant *p,
			      const struct qst_task *task, int64_t t_ns)
{
	(void)t_ns;
	p->task = *task;
	p->pending_ns = -1;
	arm(p, task->reference_c);
}

/* The quality a TSL press reports; cold ramps may feel hot (PHS). */
static int tsl_key(struct qst_participant *p, int side)
{
	if (side == 1)
		return QST_KEY_WARM;
	if (qst_rng_uniform(&p->rng) < p->prof.phs_probability)
		return qst_rng_uniform(&p->rng) < 0.5 ? QST_KEY_WARM : QST_KEY_HOT;
	return QST_KEY_COLD;
}

static void respond(struct qst_participant *p, int64_t t_cross, int side)
{
	int64_t t_press = t_cross + qst_s_to_ns(reaction_time_s(p));
	int key = p->task.kind == QST_TASK_TSL ? tsl_key(p, side) : 1;
	qst_dbg("threshold %.3f degC crossed at %.3f s, pressing key %d at %.3f s",
		p->level_c[side], qst_ns_to_s(t_cross), key, qst_ns_to_s(t_press));
	p->armed = false;
	p->pending_ns = t_press;
	if (p->press(p->press_user, t_press, key, true) < 0 ||
	    p->press(p->press_user, t_press + PRESS_HOLD_NS, key, false) < 0)
		qst_warn("could not schedule a key press");
}

/* Time at which the plate crossed `level` between two observations. */
static int64_t crossing_time(int64_t t0, double c0, int64_t t1, double c1,
			     double level)
{
	if (c1 == c0)
		return t1;
	double f = (level - c0) / (c1 - c0);
	if (f < 0.0)
		f = 0.0;
	if (f > 1.0)
		f = 1.0;
	return t0 + (int64_t)llround(f * (double)(t1 - t0));
}

static void check_crossings(struct qst_participant *p, int64_t t, double c)
{
	int64_t t0 = p->have_last ? p->last_t : t;
	double c0 = p->have_last ? p->last_c : c;
	if (!isnan(p->level_c[0]) && c <= p->level_c[0])
		respond(p, crossing_time(t0, c0, t, c, p->level_c[0]), 0);
	else if (!isnan(p->level_c[1]) && c >= p->level_c[1])
		respond(p, crossing_time(t0, c0, t, c, p->level_c[1]), 1);
}

void qst_participant_feel(struct qst_participant *p, int64_t t_ns,
			  double plate_c)
{
	/* In TSL the subject adapts to the temperature at each press. */
	if (p->task.kind == QST_TASK_TSL && p->pending_ns >= 0 &&
	    t_ns >= p->pending_ns) {
		double at_press = p->have_last ?
			p->last_c + (plate_c - p->last_c) *
				(double)(p->pending_ns - p->last_t) /
				(double)(t_ns > p->last_t ? t_ns - p->last_t : 1) :
			plate_c;
		p->pending_ns = -1;
		arm(p, at_press);
	}
	if (p->armed)
		check_crossings(p, t_ns, plate_c);
	p->last_t = t_ns;
	p->last_c = plate_c;
	p->have_last = true;
}
