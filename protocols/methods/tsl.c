/*
 * Thermal sensory limen with paradoxical heat sensations (qst-domain.md
 * §2.2): alternating warm and cold ramps, each reversing from the
 * temperature where the subject pressed, never returning to baseline in
 * between. Every press is one trial carrying the quality the subject gave,
 * so PHS can be counted from the cold ramps felt as warm, hot or burning.
 */
#define LOG_PREFIX "tsl: "

#include <math.h>

#include "qst_analysis.h"
#include "qst_methods.h"

int qst_quality_from_key(int key)
{
	switch (key) {
	case QST_KEY_COLD:
		return QST_QUALITY_COLD;
	case QST_KEY_WARM:
		return QST_QUALITY_WARM;
	case QST_KEY_HOT:
		return QST_QUALITY_HOT;
	case QST_KEY_BURNING:
		return QST_QUALITY_BURNING;
	default:
		return QST_QUALITY_NONE;
	}
}

/* One ramp of the alternation; *from_c becomes where it ended. */
static int tsl_ramp(const struct qst_rig_ops *ops, void *rig,
		    const struct qst_tsl_params *p, int index, double *from_c)
{
	int direction = index % 2 == 0 ? +1 : -1;
	double cutoff = direction > 0 ? p->upper_cutoff_c : p->lower_cutoff_c;
	struct qst_trial_record t = {
		.test = QST_TSL, .repetition = index / 2 + 1,
		.direction = direction, .baseline_c = p->baseline_c,
		.rate_c_s = p->rate_c_s, .return_rate_c_s = p->return_rate_c_s,
		.cutoff_c = cutoff, .quality = QST_QUALITY_NONE,
	};
	t.trial_id = ops->trial_begin(rig);
	t.t_start_ns = t.t_onset_ns = ops->now(rig);
	int ret = ops->reset_response_timer(rig);
	if (ret < 0)
		return qst_method_abort_trial(ops, rig, &t, ret);
	ret = ops->ramp(rig, cutoff, p->rate_c_s, 0.0, p->return_rate_c_s);
	if (ret < 0)
		return qst_method_abort_trial(ops, rig, &t, ret);
	struct qst_press press;
	int64_t deadline = t.t_onset_ns +
			   qst_s_to_ns(fabs(cutoff - *from_c) / p->rate_c_s);
	ret = ops->await_press(rig, deadline, &press);
	if (ret < 0)
		return qst_method_abort_trial(ops, rig, &t, ret);
	qst_method_take_response(ops, rig, &press, ret == 1, cutoff, &t);
	if (ret == 1)
		t.quality = qst_quality_from_key(press.key);
	*from_c = t.value_commanded;
	t.t_stop_ns = ops->now(rig);
	qst_info("TSL %s ramp %d: %.2f degC, quality %s",
		 direction > 0 ? "warm" : "cold", t.repetition, t.value_measured,
		 qst_quality_name(t.quality));
	return ops->trial_end(rig, &t);
}

int qst_method_tsl(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_tsl_params *p)
{
	int ret = ops->set_baseline(rig, p->baseline_c);
	if (ret < 0)
		return ret;
	ret = qst_method_idle(ops, rig, ops->now(rig) + qst_s_to_ns(p->isi_s));
	if (ret < 0)
		return ret;
	struct qst_task task = { QST_TASK_TSL, 0, p->baseline_c };
	ops->task(rig, &task);
	double at_c = p->baseline_c;
	int resumes = 0;
	for (int i = 0; i < 2 * p->pairs && ret >= 0; i++) {
		ret = tsl_ramp(ops, rig, p, i, &at_c);
		if (qst_method_should_repeat(&ret, &resumes)) {
			at_c = p->baseline_c; /* the pause ended at baseline */
			ops->task(rig, &task);
			i--;
		}
	}
	task.kind = QST_TASK_NONE;
	ops->task(rig, &task);
	if (ret < 0)
		return ret;
	ret = ops->ramp(rig, p->baseline_c, p->return_rate_c_s, 0.0,
			p->return_rate_c_s);
	if (ret < 0)
		return ret;
	return qst_method_settle(ops, rig, p->baseline_c, at_c,
				 p->return_rate_c_s);
}
