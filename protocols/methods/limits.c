/*
 * Method of limits (qst-domain.md §2.1, §2.3, §7.1): from the baseline the
 * thermode ramps toward the cut-off until the subject presses; the
 * temperature measured at the press is the threshold, reaction time
 * included. Without a press the trial ends at the cut-off, whose value
 * counts and is flagged (§2.1 "Cut-off hit").
 */
#define LOG_PREFIX "limits: "

#include <math.h>
#include <stdio.h>

#include "qst_analysis.h"
#include "qst_methods.h"

/* Presses this soon after onset are anticipations (qst-domain.md §7.5). */
#define SUSPECT_LATENCY_S 0.100
/* Back at baseline within this of it. */
#define SETTLE_TOL_C 0.3
/* Slack on top of the nominal return time before calling it a fault. */
#define SETTLE_SLACK_NS (10 * QST_NS_PER_S)

int qst_method_idle(const struct qst_rig_ops *ops, void *rig,
		    int64_t deadline_ns)
{
	struct qst_press press;
	int ret;
	while ((ret = ops->await_press(rig, deadline_ns, &press)) == 1)
		ops->event(rig, QST_EVC_LOG, press.key, NAN,
			   "key press while no stimulus was running (ignored)");
	return ret;
}

static int64_t ramp_duration_ns(double from_c, double to_c, double rate)
{
	return qst_s_to_ns(fabs(to_c - from_c) / rate);
}

int qst_method_settle(const struct qst_rig_ops *ops, void *rig,
		      double baseline, double from_c, double rate)
{
	int64_t deadline = ops->now(rig) +
			   ramp_duration_ns(from_c, baseline, rate) +
			   SETTLE_SLACK_NS;
	int ret = ops->await_temperature(rig, baseline, SETTLE_TOL_C, deadline);
	if (ret == 0) {
		ops->event(rig, QST_EVC_DEVICE_FAULT, baseline, NAN,
			   "thermode did not return to baseline in time");
		return QST_ERR_DEVICE;
	}
	return ret < 0 ? ret : QST_OK;
}

int qst_method_abort_trial(const struct qst_rig_ops *ops, void *rig,
			   struct qst_trial_record *t, int err)
{
	t->flags |= QST_TRIAL_ABORTED;
	t->value_measured = t->value_commanded = NAN;
	t->latency_s = t->device_rt_s = NAN;
	t->t_response_ns = -1;
	t->key = -1;
	t->t_stop_ns = ops->now(rig);
	qst_info("%s trial %d aborted: %s", qst_param_name(t->test),
		 t->repetition, qst_strerror(err));
	int ret = ops->trial_end(rig, t);
	if (ret < 0)
		qst_warn("the aborted trial could not be recorded: %s",
			 qst_strerror(ret));
	return err;
}

int qst_method_thermal_onset(const struct qst_rig_ops *ops, void *rig,
			     int test, int direction, double baseline_c,
			     double isi_s, double jitter_s,
			     struct qst_trial_record *t)
{
	double isi = isi_s + jitter_s * ops->uniform(rig);
	int ret = qst_method_idle(ops, rig, t->t_start_ns + qst_s_to_ns(isi));
	if (ret < 0)
		return ret;
	bool pain = test == QST_CPT || test == QST_HPT;
	struct qst_task task = { pain ? QST_TASK_PAIN : QST_TASK_DETECT,
				 direction, baseline_c };
	ops->task(rig, &task);
	if ((ret = ops->reset_response_timer(rig)) < 0)
		return ret;
	t->t_onset_ns = ops->now(rig);
	return QST_OK;
}

void qst_method_take_response(const struct qst_rig_ops *ops, void *rig,
			      const struct qst_press *press, bool pressed,
			      double cutoff_c, struct qst_trial_record *t)
{
	if (!pressed) {
		t->t_response_ns = -1;
		t->value_measured = cutoff_c;
		t->value_commanded = cutoff_c;
		t->latency_s = NAN;
		t->device_rt_s = NAN;
		t->key = -1;
		t->flags |= QST_TRIAL_CUTOFF_REACHED;
		ops->event(rig, QST_EVC_CUTOFF_REACHED, cutoff_c, NAN,
			   "no response before the cut-off");
		return;
	}
	t->t_response_ns = press->t_ns;
	t->value_measured = ops->measured_at(rig, press->t_ns);
	t->value_commanded = ops->commanded_at(rig, press->t_ns);
	t->latency_s = qst_ns_to_s(press->t_ns - t->t_onset_ns);
	t->device_rt_s = press->device_rt_s;
	t->key = press->key;
	if (isnan(t->value_measured)) {
		t->value_measured = t->value_commanded;
		t->flags |= QST_TRIAL_NO_READBACK;
	}
	if (t->latency_s < SUSPECT_LATENCY_S)
		t->flags |= QST_TRIAL_RESPONSE_SUSPECT;
}

/* One trial from its ISI to the return at baseline, filling *t. */
static int limits_stimulus(const struct qst_rig_ops *ops, void *rig,
			   const struct qst_limits_params *p,
			   struct qst_trial_record *t)
{
	int ret = qst_method_thermal_onset(ops, rig, p->test, p->direction,
					   p->baseline_c, p->isi_s,
					   p->isi_jitter_s, t);
	if (ret < 0)
		return ret;
	ret = ops->ramp(rig, p->cutoff_c, p->rate_c_s, 0.0, p->return_rate_c_s);
	if (ret < 0)
		return ret;

	struct qst_press press;
	int64_t at_cutoff = t->t_onset_ns +
		ramp_duration_ns(p->baseline_c, p->cutoff_c, p->rate_c_s);
	ret = ops->await_press(rig, at_cutoff, &press);
	if (ret < 0)
		return ret;
	qst_method_take_response(ops, rig, &press, ret == 1, p->cutoff_c, t);
	struct qst_task done = { QST_TASK_NONE, p->direction, p->baseline_c };
	ops->task(rig, &done);
	if (ret == 1) {
		ret = ops->ramp(rig, p->baseline_c, p->return_rate_c_s, 0.0,
				p->return_rate_c_s);
		if (ret < 0)
			return ret;
	}
	return qst_method_settle(ops, rig, p->baseline_c, t->value_commanded,
				 p->return_rate_c_s);
}

static int limits_trial(const struct qst_rig_ops *ops, void *rig,
			const struct qst_limits_params *p, int rep)
{
	struct qst_trial_record t = {
		.test = p->test, .repetition = rep, .direction = p->direction,
		.baseline_c = p->baseline_c, .rate_c_s = p->rate_c_s,
		.return_rate_c_s = p->return_rate_c_s, .cutoff_c = p->cutoff_c,
		.quality = QST_QUALITY_NONE,
	};
	t.trial_id = ops->trial_begin(rig);
	t.t_start_ns = t.t_onset_ns = ops->now(rig);
	int ret = limits_stimulus(ops, rig, p, &t);
	if (ret < 0)
		return qst_method_abort_trial(ops, rig, &t, ret);
	t.t_stop_ns = ops->now(rig);
	qst_info("%s trial %d: %.2f degC%s (latency %.3f s)",
		 qst_param_name(p->test), rep, t.value_measured,
		 (t.flags & QST_TRIAL_CUTOFF_REACHED) ? " cut-off" : "",
		 t.latency_s);
	return ops->trial_end(rig, &t);
}

int qst_method_limits(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_limits_params *p)
{
	int ret = ops->set_baseline(rig, p->baseline_c);
	int resumes = 0;
	for (int rep = 1; rep <= p->repetitions && ret >= 0; rep++) {
		ret = limits_trial(ops, rig, p, rep);
		if (qst_method_should_repeat(&ret, &resumes))
			rep--;
	}
	return ret < 0 ? ret : QST_OK;
}
