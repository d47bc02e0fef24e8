/*
 * Recorded trials → one value per DFNS parameter → z-score
 * (qst-domain.md §2 for the aggregation of each test, §3 for z).
 *
 * Conventions of struct qst_trial_view beyond the thermal tests:
 *  - TSL: direction +1 = warm ramp, -1 = cold ramp, value = °C at the
 *    press, quality = what the subject called the sensation. Pairs are
 *    formed in the order the trials appear in the array.
 *  - MDT, MPT: value = force in mN of each of the 10 series end points.
 *  - MPS, DMA: value = one NRS 0–100 rating.
 *  - WUR: direction -1 = rating of the single stimulus, +1 = rating of
 *    the train.
 *  - VDT: value = reading in x/8.  PPT: value = kPa.
 */
#define LOG_PREFIX "analysis: "

#include <math.h>
#include <string.h>

#include "analysis_internal.h"
#include "qst_analysis.h"

/* Default thermal baseline when a trial lacks one (§2.1). */
#define BASELINE_DEFAULT_C 32.0
/* §2.6: added to every rating before the log. */
#define RATING_OFFSET 0.1
/* §3.7 set limits: the ends of the von Frey and pinprick sets, the fork. */
#define MDT_SET_MIN_MN 0.25
#define MDT_SET_MAX_MN 512.0
#define MPT_SET_MIN_MN 8.0
#define MPT_SET_MAX_MN 512.0
#define VDT_SCALE_MAX 8.0

/* Trials each procedure asks for (§2.1–§2.9, §11 item 1). For TSL the
 * count is warm/cold pairs, for PHS cooling ramps, for WUR repetitions. */
static const int expected_trials[QST_PARAM_COUNT] = {
	[QST_CDT] = 3, [QST_WDT] = 3, [QST_TSL] = 3, [QST_PHS] = 3,
	[QST_CPT] = 3, [QST_HPT] = 3, [QST_MDT] = 10, [QST_MPT] = 10,
	[QST_MPS] = 35, [QST_DMA] = 15, [QST_WUR] = 5, [QST_VDT] = 3,
	[QST_PPT] = 3,
};

struct trials {
	const struct qst_trial_view *v;
	size_t n;
};

static void result_init(struct qst_result *r, enum qst_param p)
{
	memset(r, 0, sizeof(*r));
	r->param = p;
	r->value_raw = r->value_transformed = NAN;
	r->ref_mean = r->ref_sd = r->z = NAN;
	r->flags = QST_RES_NOT_DONE;
}

/* Aborted trials never count; a trial without a value is dropped loudly
 * so that FEW_TRIALS shows it rather than a NaN poisoning the mean.
 * Presentations of an adaptive method are RT-exclusive single answers,
 * not values of the DFNS procedure its references were collected with
 * (qst-domain.md §7.1), so they never count either. */
static bool trial_used(const struct qst_trial_view *t, enum qst_param test)
{
	if (t->test != test ||
	    (t->flags & (QST_TRIAL_ABORTED | QST_TRIAL_ADAPTIVE)))
		return false;
	if (!isfinite(t->value)) {
		qst_warn("%s trial %d has no value, left out",
			 qst_param_name(test), t->repetition);
		return false;
	}
	return true;
}

static void take_trial_flags(struct qst_result *r,
			     const struct qst_trial_view *t)
{
	if (t->flags & QST_TRIAL_CUTOFF_REACHED)
		/* §2.1, §3.7: included at the cut-off value, but bounded. */
		r->flags |= QST_RES_CUTOFF_REACHED | QST_RES_BOUNDED_VALUE;
	if (t->flags & QST_TRIAL_RESPONSE_SUSPECT)
		r->flags |= QST_RES_RESPONSE_SUSPECT;
	if (t->flags & QST_TRIAL_OUT_OF_RANGE)
		/* §2.4, §2.5: an assigned value beyond the set, kept but bounded. */
		r->flags |= QST_RES_BOUNDED_VALUE;
}

static void mark_done(struct qst_result *r, int n)
{
	r->n = n;
	r->flags &= ~(unsigned)QST_RES_NOT_DONE;
	if (n < expected_trials[r->param])
		r->flags |= QST_RES_FEW_TRIALS;
}

/* §3.4: guard every log argument and give each NaN a reason. */
static double log10_guarded(struct qst_result *r, double x)
{
	if (!(x > 0.0) || !isfinite(x)) {
		r->flags |= QST_RES_UNDEFINED;
		return NAN;
	}
	return log10(x);
}

static double baseline_of(const struct qst_trial_view *t)
{
	return isfinite(t->baseline) ? t->baseline : BASELINE_DEFAULT_C;
}

/* §2.1: arithmetic mean of Δ = T(press) − baseline; log10 |mean|. */
static void detection_threshold(struct trials tr, struct qst_result *r)
{
	double sum = 0;
	int n = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const struct qst_trial_view *t = &tr.v[i];
		if (!trial_used(t, r->param))
			continue;
		sum += t->value - baseline_of(t);
		n++;
		take_trial_flags(r, t);
	}
	if (n == 0)
		return;
	mark_done(r, n);
	r->value_raw = sum / n;
	/* CDT is negative: |Δ| (§3.4). WDT ≤ 0 is no warm threshold at all. */
	double x = r->param == QST_CDT ? fabs(r->value_raw) : r->value_raw;
	r->value_transformed = log10_guarded(r, x);
}

/* §2.3: arithmetic mean of absolute °C, no transform. Also VDT (§2.8). */
static void arithmetic_raw(struct trials tr, struct qst_result *r)
{
	double sum = 0;
	int n = 0;
	bool out_of_scale = false;
	for (size_t i = 0; i < tr.n; i++) {
		const struct qst_trial_view *t = &tr.v[i];
		if (!trial_used(t, r->param))
			continue;
		sum += t->value;
		n++;
		take_trial_flags(r, t);
		if (r->param == QST_VDT) {
			if (t->value < 0 || t->value > VDT_SCALE_MAX)
				out_of_scale = true;
			else if (t->value >= VDT_SCALE_MAX)
				r->flags |= QST_RES_BOUNDED_VALUE; /* §3.7 */
		}
	}
	if (n == 0)
		return;
	mark_done(r, n);
	if (out_of_scale) {
		qst_warn("VDT reading outside 0..8/8");
		r->flags |= QST_RES_UNDEFINED;
		return;
	}
	r->value_raw = sum / n;
	r->value_transformed = r->value_raw;
}

/* §2.2: TSL is the mean |warm − cold| over consecutive warm/cold pairs;
 * PHS counts cooling ramps called warm, hot or burning. */
static void thermal_limen(struct trials tr, struct qst_result *tsl,
			  struct qst_result *phs)
{
	const struct qst_trial_view *warm = NULL, *cold = NULL;
	double sum = 0;
	int pairs = 0, cooling = 0, paradoxical = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const struct qst_trial_view *t = &tr.v[i];
		if (t->test != QST_TSL || (t->flags & QST_TRIAL_ABORTED))
			continue;
		if (t->direction < 0) {
			cooling++;
			if (t->quality == QST_QUALITY_WARM ||
			    t->quality == QST_QUALITY_HOT ||
			    t->quality == QST_QUALITY_BURNING)
				paradoxical++;
			if (t->flags & QST_TRIAL_RESPONSE_SUSPECT)
				phs->flags |= QST_RES_RESPONSE_SUSPECT;
		}
		if (!trial_used(t, QST_TSL))
			continue;
		if (t->direction == 0) {
			qst_warn("TSL trial %d has no direction, left out",
				 t->repetition);
			continue;
		}
		take_trial_flags(tsl, t);
		if (t->direction > 0)
			warm = t;
		else
			cold = t;
		if (warm && cold) {
			sum += fabs(warm->value - cold->value);
			pairs++;
			warm = cold = NULL;
		}
	}
	if (pairs > 0) {
		mark_done(tsl, pairs);
		tsl->value_raw = sum / pairs;
		tsl->value_transformed = log10_guarded(tsl, tsl->value_raw);
	}
	if (cooling > 0) {
		mark_done(phs, cooling);
		phs->value_raw = phs->value_transformed = paradoxical;
	}
}

/* §2.4, §2.5: geometric mean; the z domain is mean(log10 mN). */
static void geometric_threshold(struct trials tr, struct qst_result *r)
{
	double lo = r->param == QST_MDT ? MDT_SET_MIN_MN : MPT_SET_MIN_MN;
	double hi = r->param == QST_MDT ? MDT_SET_MAX_MN : MPT_SET_MAX_MN;
	double sum = 0;
	int n = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const struct qst_trial_view *t = &tr.v[i];
		if (!trial_used(t, r->param))
			continue;
		sum += log10_guarded(r, t->value);
		n++;
		take_trial_flags(r, t);
		if (t->value <= lo || t->value >= hi)
			r->flags |= QST_RES_BOUNDED_VALUE; /* §3.7 */
	}
	if (n == 0)
		return;
	mark_done(r, n);
	if (r->flags & QST_RES_UNDEFINED)
		return;
	r->value_transformed = sum / n;
	r->value_raw = pow(10.0, r->value_transformed);
}

/* §2.6: mean of log10(r + 0.1); the raw value shown keeps the offset. */
static bool rating_function(struct trials tr, struct qst_result *r)
{
	double sum = 0;
	int n = 0;
	bool any_pain = false;
	for (size_t i = 0; i < tr.n; i++) {
		const struct qst_trial_view *t = &tr.v[i];
		if (!trial_used(t, r->param))
			continue;
		n++;
		take_trial_flags(r, t);
		if (t->value < 0) {
			r->flags |= QST_RES_UNDEFINED;
			continue;
		}
		sum += log10(t->value + RATING_OFFSET);
		if (t->value > 0)
			any_pain = true;
	}
	if (n == 0)
		return false;
	mark_done(r, n);
	if (r->flags & QST_RES_UNDEFINED) {
		qst_warn("%s: negative rating", qst_param_name(r->param));
		return false;
	}
	r->value_transformed = sum / n;
	r->value_raw = pow(10.0, r->value_transformed);
	return any_pain;
}

/* §2.7: mean(train) / mean(single), NaN when the single mean is 0. */
static void wind_up(struct trials tr, struct qst_result *r)
{
	double sum_single = 0, sum_train = 0;
	int n_single = 0, n_train = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const struct qst_trial_view *t = &tr.v[i];
		if (!trial_used(t, QST_WUR) || t->direction == 0)
			continue;
		take_trial_flags(r, t);
		if (t->direction < 0) {
			sum_single += t->value;
			n_single++;
		} else {
			sum_train += t->value;
			n_train++;
		}
	}
	if (n_single + n_train == 0)
		return;
	mark_done(r, n_single + n_train);
	int reps = n_single < n_train ? n_single : n_train;
	if (reps < expected_trials[QST_WUR])
		r->flags |= QST_RES_FEW_TRIALS;
	else
		r->flags &= ~(unsigned)QST_RES_FEW_TRIALS;
	if (n_single == 0 || n_train == 0 || sum_single <= 0) {
		r->flags |= QST_RES_UNDEFINED;
		return;
	}
	r->value_raw = (sum_train / n_train) / (sum_single / n_single);
	r->value_transformed = log10_guarded(r, r->value_raw);
}

/* §2.9: arithmetic mean, then log10 kPa. */
static void pressure_threshold(struct trials tr, struct qst_result *r)
{
	double sum = 0;
	int n = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const struct qst_trial_view *t = &tr.v[i];
		if (!trial_used(t, QST_PPT))
			continue;
		sum += t->value;
		n++;
		take_trial_flags(r, t);
	}
	if (n == 0)
		return;
	mark_done(r, n);
	r->value_raw = sum / n;
	r->value_transformed = log10_guarded(r, r->value_raw);
}

/* §3.6: PHS is judged against mean + 1.96 SD of its cell, not by z. */
static int phs_abnormal(const struct qst_result *r)
{
	if (!isfinite(r->ref_mean) || !isfinite(r->value_raw))
		return 0;
	return r->value_raw > r->ref_mean + 1.96 * r->ref_sd ? 1 : 0;
}

static void score(struct qst_result *r, const struct qst_subject *s,
		  const struct qst_reftable *ref, bool dma_gain)
{
	const struct qst_param_info *info = qst_param_info(r->param);
	int band = qst_age_band(s->age_years);
	qst_format_stratum(s->site, s->sex, band, r->stratum,
			   sizeof(r->stratum));

	struct qst_refcell cell;
	if (ref && qst_reftable_lookup(ref, r->param, s->site, s->sex,
				       s->age_years, &cell) == QST_OK) {
		r->ref_mean = cell.mean;
		r->ref_sd = cell.sd;
		if (cell.flagged)
			r->flags |= QST_RES_REF_FLAGGED;
	} else {
		r->flags |= QST_RES_NO_REFERENCE;
	}

	if (!info->z_scored) {
		r->flags |= QST_RES_NOT_Z_SCORED;
		/* §3.6: any light-touch pain is a gain sign; PHS by its cell. */
		r->abnormal = r->param == QST_DMA ? (dma_gain ? 1 : 0)
						  : phs_abnormal(r);
		return;
	}
	if (r->flags & (QST_RES_UNDEFINED | QST_RES_NO_REFERENCE))
		return;
	r->z = qst_zscore(r->param, r->value_transformed, r->ref_mean,
			  r->ref_sd);
	r->abnormal = qst_abnormal(r->z);
}

int qst_analyze_trials(const struct qst_trial_view *trials, size_t n,
		       const struct qst_subject *subject,
		       const struct qst_reftable *ref,
		       struct qst_result out[QST_PARAM_COUNT])
{
	if (!out || !subject || (n > 0 && !trials))
		return QST_ERR_ARG;
	for (int p = 0; p < QST_PARAM_COUNT; p++)
		result_init(&out[p], (enum qst_param)p);

	struct trials tr = { trials, n };
	detection_threshold(tr, &out[QST_CDT]);
	detection_threshold(tr, &out[QST_WDT]);
	thermal_limen(tr, &out[QST_TSL], &out[QST_PHS]);
	arithmetic_raw(tr, &out[QST_CPT]);
	arithmetic_raw(tr, &out[QST_HPT]);
	geometric_threshold(tr, &out[QST_MDT]);
	geometric_threshold(tr, &out[QST_MPT]);
	rating_function(tr, &out[QST_MPS]);
	bool dma_gain = rating_function(tr, &out[QST_DMA]);
	wind_up(tr, &out[QST_WUR]);
	arithmetic_raw(tr, &out[QST_VDT]);
	pressure_threshold(tr, &out[QST_PPT]);

	for (int p = 0; p < QST_PARAM_COUNT; p++) {
		struct qst_result *r = &out[p];
		if (r->flags & QST_RES_NOT_DONE) {
			qst_format_stratum(subject->site, subject->sex,
					   qst_age_band(subject->age_years),
					   r->stratum, sizeof(r->stratum));
			continue;
		}
		score(r, subject, ref, dma_gain);
	}
	return QST_OK;
}
