/*
 * Rating-target ("Pain5") calibration, rig-driven (qst-domain.md §7.3):
 * a heat pulse at the current level, a rating on the protocol's scale,
 * one step up or down by the sign of (rating − target), until the rating
 * meets the target; repeated with a rest and averaged. The decision core
 * is qst_rating_target (adaptive.c); every level goes through the rig,
 * whose supervisor refuses anything above the station's limits.
 */
#define LOG_PREFIX "calibrate: "

#include <math.h>
#include <stdio.h>

#include "manual_internal.h"
#include "qst_adaptive.h"
#include "qst_analysis.h"

static int pulse(const struct qst_rig_ops *ops, void *rig,
		 const struct qst_calibrate_params *p, double level)
{
	int ret = qst_method_idle(ops, rig, ops->now(rig) + qst_s_to_ns(p->isi_s));
	if (ret < 0)
		return ret;
	ret = ops->ramp(rig, level, p->rate_c_s, p->pulse_s, p->return_rate_c_s);
	if (ret < 0)
		return ret;
	return qst_method_settle(ops, rig, p->baseline_c, level,
				 p->return_rate_c_s);
}

/* §7.4: the scale travels with the question (and so with the record). */
static int ask_rating(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_calibrate_params *p, double level,
		      int n, double *rating)
{
	char text[192];
	double top = qst_rating_scale_max(p->scale);
	snprintf(text, sizeof(text),
		 "calibration pulse %d at %.1f degC: rate it, scale %s (0..%g)",
		 n, level, qst_rating_scale_name(p->scale), top);
	/* The level is in the text and in the ramp event before: the
	 * stimulus value of a question is a force in mN, not °C. Not a DFNS
	 * test, so no test code. */
	struct qst_question q = {
		.test = -1, .kind = QST_ANSWER_RATING, .text = text,
		.stimulus = QST_STIM_NONE, .stimulus_value = NAN,
	};
	struct qst_answer a;
	int ret = qst_manual_ask(ops, rig, &q, &a);
	if (ret != QST_OK)
		return ret;
	if (a.value > top) { /* never rescaled: a 0..100 answer is refused */
		qst_err("rating %g is off the %s scale", a.value,
			qst_rating_scale_name(p->scale));
		return QST_ERR_DATA;
	}
	*rating = a.value;
	return QST_OK;
}

/* One calibration; *result NaN when it found no level. */
static int calibrate_once(const struct qst_rig_ops *ops, void *rig,
			  const struct qst_calibrate_params *p, int run,
			  double *result)
{
	struct qst_rating_target_rule rule = {
		.direction = +1, .start = p->start_c, .step = p->step_c,
		.target = p->target, .tolerance = p->tolerance,
		.bracket = p->bracket, .floor = p->floor_c,
		.ceiling = p->ceiling_c, .max_pulses = p->max_pulses,
		.scale = p->scale,
	};
	struct qst_rating_target c;
	if (qst_rating_target_init(&c, &rule) < 0)
		return QST_ERR_ARG;
	int state = QST_ADAPT_CONTINUE, resumes = 0;
	while (state == QST_ADAPT_CONTINUE) {
		double level = qst_rating_target_level(&c), rating = NAN;
		int ret = pulse(ops, rig, p, level);
		if (qst_method_should_repeat(&ret, &resumes))
			continue;
		if (ret == QST_OK)
			ret = ask_rating(ops, rig, p, level, c.pulses + 1, &rating);
		if (ret != QST_OK)
			return ret;
		state = qst_rating_target_respond(&c, rating);
		if (state < 0)
			return state;
	}
	*result = c.result;
	char msg[160];
	snprintf(msg, sizeof(msg),
		 "calibration %d: %.2f degC for %g on %s after %d pulses (end 0x%x)",
		 run, c.result, p->target, qst_rating_scale_name(p->scale),
		 c.pulses, c.end);
	qst_info("%s", msg);
	ops->event(rig, QST_EVC_LOG, c.result, p->target, msg);
	return QST_OK;
}

int qst_method_calibrate(const struct qst_rig_ops *ops, void *rig,
			 const struct qst_calibrate_params *p, double *result)
{
	*result = NAN;
	if (p->repeats < 1 || !(p->rate_c_s > 0) || !(p->return_rate_c_s > 0) ||
	    !(p->pulse_s >= 0) || !(p->rest_s >= 0) || !(p->isi_s >= 0))
		return QST_ERR_ARG;
	int ret = ops->set_baseline(rig, p->baseline_c);
	double sum = 0.0;
	int found = 0;
	for (int run = 1; run <= p->repeats && ret == QST_OK; run++) {
		/* §7.3 (S21): twice, 90 s apart, averaged. */
		if (run > 1)
			ret = qst_method_idle(ops, rig, ops->now(rig) +
							 qst_s_to_ns(p->rest_s));
		double one = NAN;
		if (ret == QST_OK)
			ret = calibrate_once(ops, rig, p, run, &one);
		if (ret == QST_OK && isfinite(one)) {
			sum += one;
			found++;
		}
	}
	if (found > 0)
		*result = sum / found;
	if (ret < 0)
		return ret;
	return ret == QST_METHOD_NOT_DONE ? ret : QST_OK;
}
