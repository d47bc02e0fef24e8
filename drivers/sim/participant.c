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
#define HEAT_SEED_SALT UINT64_C(0x9e3779b97f4a7c15)
/* Plate changes smaller than this are not a fall (the simulated plate
 * settles exponentially; a real readback also jitters). */
#define FALL_EPS_C 0.005
/* A fall is over when the plate has not gone lower for this long. */
#define FALL_PAUSE_NS (200 * QST_NS_PER_MS)
/* A fall this large ends a pulse (temporal summation); smaller ones are
 * the offset-analgesia step (qst-domain.md §6.4: 1 degC). */
#define TS_PULSE_MIN_C 2.0

/*
 * Heat pain perception, updated at every plate observation (see
 * qst_participant.h, docs/simulation.md). Kept apart from the threshold
 * tasks: nothing here draws from the participant's main generator, so
 * thresholds and presses are the same with or without it.
 */
struct heat {
	struct qst_rng rng;    /* slider and heat-rating noise only */
	bool felt;             /* a plate observation has been made */
	int64_t t;             /* of the last observation */
	double plate_c;
	double u;              /* static pain / 100 at plate_c */
	double pain;           /* felt pain, NRS 0..100 */
	double peak;           /* peak felt pain since the last heat answer */
	double windup;         /* temporal summation: pain x (1 + windup) */
	double oa;             /* offset analgesia: pain x (1 - oa) */
	/* The current fall of the plate, if any. */
	bool falling;
	double top_c, top_u;   /* where it started */
	double low_c, low_u;   /* lowest so far */
	int64_t low_t;
	/* Remote conditioning (CPM). */
	bool cond_on;
	double cond_level;     /* intensity while on, at cond_t once off */
	int64_t cond_t;        /* when it went off */
	/* The slider. */
	double slider;
	int64_t slider_t;
};

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
	bool panicked;
	struct heat heat;
};

/*
 * Built-in profiles. "healthy" sits near the DFNS reference means for a
 * young adult's hand (qst-domain.md §4.2). "hyperalgesic" has cold and
 * heat pain thresholds far enough from the means that z leaves the ±1.96
 * band at the foot (where the reference SDs are narrower than at the
 * hand); "hypoesthetic" has a thermal detection loss with PHS.
 */
/* No profile panics unless told to (--participant-set panic_at_s=T). */
#define NO_PANIC 0.0
/* Mechanical truths shared by profiles without a mechanical finding:
 * near the DFNS reference means for a young adult's hand (§4.2). */
#define MECH_NORMAL 0.8, 75.0, 0.08, 10.0, 1.3, 0.0, 2.5, 7.9, 370.0, 30.0

/*
 * Heat pain perception (issue 6), after the panic time: 50/100 point,
 * slope, TS gain and time constant, CPM efficiency and time constant, OA
 * depth and time constant, slider lag and noise. Healthy: a little
 * temporal summation, CPM inhibits 30% (early CPM ~17 of NRS 60,
 * qst-domain.md §6.3), offset analgesia; the thermal DFNS profiles keep
 * it, with the 50 point 3 degC above their heat pain threshold.
 */
#define HEAT_DYN_HEALTHY 15.0, 0.2, 3.0, 0.30, 10.0, 0.40, 3.0, 0.7, 1.0
#define HEAT_HEALTHY(p50) p50, HEAT_DYN_HEALTHY
/* Sensitized: strong wind-up, no CPM, little offset analgesia (§6.1,
 * §6.3, §6.4: patients show less OA and CPM, more TS). */
#define HEAT_SENSITIZED 45.0, 15.0, 0.8, 4.0, 0.0, 10.0, 0.10, 3.0, 0.7, 1.0

static const struct qst_participant_profile builtin_profiles[] = {
	/* name, CDT, WDT, TSL, PHS p, CPT, HPT, detect sd, pain sd, RT, RT sd,
	 * then MDT, MPT, spread, MPS r512, exponent, DMA, WUR, VDT, PPT, PPT sd,
	 * panic time, heat perception */
	{ "healthy", 0.8, 1.6, 2.8, 0.0, 12.0, 44.0, 0.15, 0.8, 0.45, 0.08,
	  MECH_NORMAL, NO_PANIC, HEAT_HEALTHY(47.0) },
	{ "hyperalgesic", 0.8, 1.6, 2.8, 0.0, 28.5, 40.0, 0.15, 0.5, 0.45,
	  0.08, MECH_NORMAL, NO_PANIC, HEAT_HEALTHY(43.0) },
	/* Thermal and mechanical detection loss (L3G0). */
	{ "hypoesthetic", 5.5, 9.0, 14.0, 0.67, 4.0, 48.0, 0.4, 0.6, 0.55,
	  0.10, 64.0, 180.0, 0.08, 12.0, 1.0, 0.0, 2.5, 4.0, 520.0, 30.0, NO_PANIC,
	  HEAT_HEALTHY(51.0) },
	/* Mechanical hyperalgesia: low MPT, high MPS, allodynia, low PPT (L0G2). */
	{ "mech-hyperalgesic", 0.8, 1.6, 2.8, 0.0, 12.0, 44.0, 0.15, 0.8, 0.45,
	  0.08, 1.0, 10.0, 0.08, 85.0, 0.7, 25.0, 3.5, 7.9, 160.0, 15.0, NO_PANIC,
	  HEAT_HEALTHY(47.0) },
	/* Central sensitization for the paradigms beyond DFNS (§6): heat
	 * pain from 42 degC, strong temporal summation, no CPM, little
	 * offset analgesia; DFNS values otherwise as "healthy". */
	{ "sensitized", 0.8, 1.6, 2.8, 0.0, 12.0, 42.0, 0.15, 0.8, 0.45, 0.08,
	  MECH_NORMAL, NO_PANIC, HEAT_SENSITIZED },
	/* Feels nothing and never presses: every ramp runs to its cut-off,
	 * every series off the set, the algometer to its ceiling — the worst
	 * case that qst check measures the stimulus dose against. */
	{ "unresponsive", 99.0, 99.0, 99.0, 0.0, -99.0, 99.0, 0.0, 0.0, 0.45,
	  0.08, 1e4, 1e4, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1e6, 0.0, NO_PANIC,
	  HEAT_HEALTHY(100.0) },
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
	FIELD(mdt_mn, 0.01, 2048.0),    FIELD(mpt_mn, 1.0, 4096.0),
	FIELD(mech_spread, 0.001, 1.0), FIELD(mps_r512, 0.0, 100.0),
	FIELD(mps_exponent, 0.1, 3.0),  FIELD(dma_rating, 0.0, 100.0),
	FIELD(wur_ratio, 0.1, 20.0),    FIELD(vdt_eighths, 0.0, 8.0),
	FIELD(ppt_kpa, 20.0, 2000.0),   FIELD(pressure_sd_kpa, 0.0, 500.0),
	FIELD(panic_at_s, 0.0, 86400.0),
	FIELD(heat_p50_c, 32.0, 60.0),  FIELD(heat_slope, 1.0, 50.0),
	FIELD(ts_gain, 0.0, 10.0),      FIELD(ts_tau_s, 0.1, 60.0),
	FIELD(cpm_efficiency, -1.0, 1.0), FIELD(cpm_tau_s, 0.1, 600.0),
	FIELD(oa_depth, 0.0, 1.0),      FIELD(oa_tau_s, 0.1, 60.0),
	FIELD(rating_tau_s, 0.01, 10.0), FIELD(rating_sd, 0.0, 20.0),
};
#undef FIELD

#define N_FIELDS (sizeof(profile_fields) / sizeof(profile_fields[0]))

int qst_participant_profile_field_count(void)
{
	return (int)N_FIELDS;
}

const char *qst_participant_profile_field(const struct qst_participant_profile *p,
					  int i, double *value)
{
	if (i < 0 || (size_t)i >= N_FIELDS)
		return NULL;
	*value = *(const double *)((const char *)p + profile_fields[i].offset);
	return profile_fields[i].key;
}

static int set_profile_field(struct qst_participant_profile *p,
			     const char *key, const char *value, char *errbuf,
			     size_t errlen)
{
	for (size_t i = 0; i < N_FIELDS; i++) {
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
	/* A stream of its own, so the slider can be sampled at any rate
	 * without changing thresholds or presses (HEAT_SEED_SALT: any
	 * constant that keeps the two streams apart). */
	qst_rng_seed(&p->heat.rng, seed ^ HEAT_SEED_SALT);
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
	case QST_TASK_PRESSURE_PAIN:
		p->level_c[1] = qst_rng_normal(&p->rng, pr->ppt_kpa, pr->pressure_sd_kpa);
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

/* ------------------------------------------------------ heat perception */

/*
 * A Hill function of the temperature above the pain threshold: 0 at
 * hpt_c, so the rating model and the threshold tasks agree on where pain
 * starts, 50 at heat_p50_c, and saturating towards 100 as ratings do.
 * Its slope at the 50 point is 100 n / (4 (p50 - hpt)).
 */
double qst_participant_profile_heat_pain(const struct qst_participant_profile *pr,
					 double plate_c)
{
	double span = pr->heat_p50_c - pr->hpt_c;
	if (span < 0.1)
		span = 0.1;
	double x = (plate_c - pr->hpt_c) / span;
	if (!(x > 0))
		return 0;
	double xn = pow(x, 4.0 * pr->heat_slope * span / 100.0);
	return 100.0 * xn / (1.0 + xn);
}

static double fade(double v, double dt_s, double tau_s)
{
	return dt_s > 0 ? v * exp(-dt_s / tau_s) : v;
}

/* The remote conditioning stimulus's strength at t (0..1). */
static double conditioning(const struct qst_participant *p, int64_t t)
{
	const struct heat *h = &p->heat;
	if (h->cond_on)
		return h->cond_level;
	return fade(h->cond_level, qst_ns_to_s(t - h->cond_t), p->prof.cpm_tau_s);
}

/* The slider moves towards the pain felt since the last observation. */
static void slider_to(struct qst_participant *p, int64_t t)
{
	struct heat *h = &p->heat;
	if (t <= h->slider_t)
		return;
	double dt = qst_ns_to_s(t - h->slider_t);
	h->slider += (h->pain - h->slider) * (1.0 - exp(-dt / p->prof.rating_tau_s));
	h->slider_t = t;
}

/*
 * A fall of the plate while it hurts. Small falls (the 1 degC OA step)
 * bring offset analgesia at once; a fall that ends a pulse is not offset
 * analgesia (the stimulus is simply over), so it clears it.
 */
static void fall_lower(struct qst_participant *p, int64_t t, double c, double u)
{
	struct heat *h = &p->heat;
	h->low_c = c;
	h->low_u = u;
	h->low_t = t;
	double fall = h->top_c - c;
	if (fall >= TS_PULSE_MIN_C)
		h->oa = 0;
	else if (h->top_u > 0 && p->prof.oa_depth * fmin(fall, 1.0) > h->oa)
		h->oa = p->prof.oa_depth * fmin(fall, 1.0);
}

/* The fall is over: a pulse winds up what follows, counted from the end
 * of its fall, whenever the fall was noticed to be over. */
static void fall_end(struct qst_participant *p, int64_t t)
{
	struct heat *h = &p->heat;
	h->falling = false;
	if (h->top_c - h->low_c < TS_PULSE_MIN_C)
		return;
	h->windup += fade(p->prof.ts_gain * (h->top_u - h->low_u),
			  qst_ns_to_s(t - h->low_t), p->prof.ts_tau_s);
}

static void track_fall(struct qst_participant *p, int64_t t, double c, double u)
{
	struct heat *h = &p->heat;
	if (h->falling) {
		if (c < h->low_c - FALL_EPS_C)
			fall_lower(p, t, c, u);
		else if (c > h->low_c + FALL_EPS_C || t - h->low_t >= FALL_PAUSE_NS)
			fall_end(p, t);
		return;
	}
	if (c < h->plate_c - FALL_EPS_C) {
		h->falling = true;
		h->top_c = h->plate_c;
		h->top_u = h->u;
		fall_lower(p, t, c, u);
	}
}

static void heat_feel(struct qst_participant *p, int64_t t, double plate_c)
{
	const struct qst_participant_profile *pr = &p->prof;
	struct heat *h = &p->heat;
	double u = qst_participant_profile_heat_pain(pr, plate_c) / 100.0;
	if (h->felt) {
		double dt = qst_ns_to_s(t - h->t);
		slider_to(p, t);
		h->windup = fade(h->windup, dt, pr->ts_tau_s);
		h->oa = fade(h->oa, dt, pr->oa_tau_s);
		track_fall(p, t, plate_c, u);
	} else {
		h->slider_t = t;
	}
	double cpm = 1.0 - pr->cpm_efficiency * conditioning(p, t);
	double pain = 100.0 * u * (1.0 + h->windup) * (1.0 - h->oa) * cpm;
	h->pain = pain < 0 ? 0 : pain > 100 ? 100 : pain;
	if (h->pain > h->peak)
		h->peak = h->pain;
	h->felt = true;
	h->t = t;
	h->plate_c = plate_c;
	h->u = u;
}

double qst_participant_pain(const struct qst_participant *p)
{
	return p->heat.pain;
}

/* Rating noise, rounded to the integer scale: none while nothing hurts,
 * the hand rests at 0. */
static double scatter_rating(struct qst_participant *p, double r)
{
	if (r < 0.5)
		return 0;
	r = floor(qst_rng_normal(&p->heat.rng, r, p->prof.rating_sd) + 0.5);
	return r < 0 ? 0 : r > 100 ? 100 : r;
}

double qst_participant_rating(struct qst_participant *p, int64_t t_ns)
{
	if (!p->heat.felt)
		return 0;
	slider_to(p, t_ns);
	return scatter_rating(p, p->heat.slider);
}

/* What a subject asked "how painful was it?" answers: the worst since
 * the last time they were asked. */
static double heat_answer(struct qst_participant *p)
{
	double r = p->heat.peak;
	p->heat.peak = p->heat.pain;
	return scatter_rating(p, r);
}

void qst_participant_condition(struct qst_participant *p, int64_t t_ns,
			       double intensity, bool on)
{
	struct heat *h = &p->heat;
	if (on) {
		h->cond_on = true;
		h->cond_level = intensity < 0 ? 0 : intensity > 1 ? 1 : intensity;
		return;
	}
	if (!h->cond_on)
		return;
	h->cond_on = false;
	h->cond_t = t_ns;
}

/*
 * Pulse j's fall ends ramp + hold after pulse k's peak is reached, minus
 * (k - j) onsets: the wind-up it leaves at the peak of pulse k is
 * ts_gain * du * exp(-((k - j) isi - ramp - hold) / tau).
 */
double qst_participant_profile_tsp_truth(const struct qst_participant_profile *pr,
					 double base_c, double peak_c,
					 double isi_s, double ramp_s,
					 double hold_s, int n)
{
	double up = qst_participant_profile_heat_pain(pr, peak_c) / 100.0;
	double ub = qst_participant_profile_heat_pain(pr, base_c) / 100.0;
	if (peak_c - base_c < TS_PULSE_MIN_C)
		return 0;
	double d = exp(-isi_s / pr->ts_tau_s), sum = 0, dk = 1;
	for (int k = 1; k < n; k++) {
		dk *= d;
		sum += dk;
	}
	return 100.0 * up * pr->ts_gain * (up - ub) *
	       exp((ramp_s + hold_s) / pr->ts_tau_s) * sum;
}

static void panic_if_due(struct qst_participant *p, int64_t t_ns)
{
	if (p->panicked || p->prof.panic_at_s <= 0 ||
	    t_ns < qst_s_to_ns(p->prof.panic_at_s))
		return;
	p->panicked = true;
	qst_info("participant: holding key 1 down from %.3f s (panic)",
		 qst_ns_to_s(t_ns));
	if (p->press(p->press_user, t_ns, 1, true) < 0 ||
	    p->press(p->press_user, t_ns + qst_s_to_ns(QST_PARTICIPANT_PANIC_HOLD_S),
		     1, false) < 0)
		qst_warn("participant: the panic press could not be queued");
}

void qst_participant_feel(struct qst_participant *p, int64_t t_ns,
			  double plate_c)
{
	panic_if_due(p, t_ns);
	heat_feel(p, t_ns, plate_c);
	/* The plate says nothing about a pressure task, and vice versa. */
	if (p->task.kind == QST_TASK_PRESSURE_PAIN)
		return;
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

void qst_participant_feel_pressure(struct qst_participant *p, int64_t t_ns,
				   double kpa)
{
	if (p->task.kind != QST_TASK_PRESSURE_PAIN)
		return;
	if (p->armed)
		check_crossings(p, t_ns, kpa);
	p->last_t = t_ns;
	p->last_c = kpa;
	p->have_last = true;
}

/* ------------------------------------------------------- manual tests */

/* Probability of "yes" at force f for a 50% point at threshold: a
 * logistic in log10 force, as psychometric functions for von Frey and
 * pinprick forces usually are. */
static bool psychometric_yes(struct qst_participant *p, double force_mn,
			     double threshold_mn)
{
	if (force_mn <= 0)
		return false;
	double x = (log10(force_mn) - log10(threshold_mn)) / p->prof.mech_spread;
	return qst_rng_uniform(&p->rng) < 1.0 / (1.0 + exp(-x));
}

/* An NRS 0..100 rating around mean, with the scatter of real ratings
 * (multiplicative, ~30%), rounded as people answer. */
static double noisy_rating(struct qst_participant *p, double mean)
{
	if (mean <= 0)
		return 0;
	double r = mean * exp(qst_rng_normal(&p->rng, 0.0, 0.3));
	r = floor(r + 0.5);
	return r > 100 ? 100 : r;
}

static double pinprick_rating(struct qst_participant *p, double force_mn)
{
	return noisy_rating(p, p->prof.mps_r512 *
				       pow(force_mn / 512.0, p->prof.mps_exponent));
}

static double tuning_fork_reading(struct qst_participant *p)
{
	double x = qst_rng_normal(&p->rng, p->prof.vdt_eighths, 0.25);
	x = floor(x * 2.0 + 0.5) / 2.0; /* the scale is read to half eighths */
	return x < 0 ? 0 : x > 8 ? 8 : x;
}

/* Answer kinds, as enum qst_answer_kind in qst_protocol.h. */
enum { ANSWER_YESNO = 0, ANSWER_SHARP_BLUNT = 1, ANSWER_RATING = 2,
       ANSWER_EIGHTHS = 3 };
/* Stimuli, as enum qst_stimulus in qst_methods.h. */
enum { STIM_NONE = 0, STIM_VONFREY = 1, STIM_PINPRICK = 2, STIM_COTTON_WISP = 3,
       STIM_QTIP = 4, STIM_BRUSH = 5, STIM_PINPRICK_TRAIN = 6,
       STIM_TUNING_FORK = 7, STIM_SHAM_FORK = 8 };

static double rate_stimulus(struct qst_participant *p, int stimulus,
			    double value)
{
	switch (stimulus) {
	case STIM_NONE: /* a script's own question: the heat it just felt */
		return heat_answer(p);
	case STIM_PINPRICK:
		return pinprick_rating(p, value);
	case STIM_PINPRICK_TRAIN:
		return noisy_rating(p, p->prof.wur_ratio * p->prof.mps_r512 *
					       pow(value / 512.0, p->prof.mps_exponent));
	case STIM_COTTON_WISP:
	case STIM_QTIP:
	case STIM_BRUSH:
		return noisy_rating(p, p->prof.dma_rating);
	default:
		return 0;
	}
}

double qst_participant_answer(struct qst_participant *p, int test,
			      int stimulus, double stimulus_value, int kind)
{
	(void)test;
	switch (kind) {
	case ANSWER_YESNO:
		if (stimulus == STIM_SHAM_FORK)
			return 0; /* the virtual participant does not false-alarm */
		if (stimulus == STIM_TUNING_FORK)
			return 1;
		return psychometric_yes(p, stimulus_value, p->prof.mdt_mn) ? 1 : 0;
	case ANSWER_SHARP_BLUNT:
		return psychometric_yes(p, stimulus_value, p->prof.mpt_mn) ? 1 : 0;
	case ANSWER_RATING:
		return rate_stimulus(p, stimulus, stimulus_value);
	case ANSWER_EIGHTHS:
		return stimulus == STIM_SHAM_FORK ? 0 : tuning_fork_reading(p);
	default:
		return NAN;
	}
}

int qst_task_format(const struct qst_task *task, char *buf, size_t len)
{
	int n = snprintf(buf, len, "task %d %d %.3f\n", (int)task->kind,
			 task->direction, task->reference_c);
	return n > 0 && (size_t)n < len ? n : QST_ERR_ARG;
}

int qst_task_parse(const char *line, struct qst_task *task)
{
	int kind, dir;
	double ref;
	char end;
	if (sscanf(line, "task %d %d %lf%c", &kind, &dir, &ref, &end) != 4 ||
	    end != '\n' || kind < QST_TASK_NONE || kind > QST_TASK_PRESSURE_PAIN ||
	    (dir != 1 && dir != -1 && dir != 0) || !(ref >= 0 && ref <= 60))
		return QST_ERR_DATA;
	*task = (struct qst_task){ (enum qst_task_kind)kind, dir, ref };
	return QST_OK;
}
