/*
 * Rig-driven runners of the method of levels (qst-domain.md §7.2) and the
 * up–down staircases (§7.3): fixed-level thermal stimuli answered yes/no,
 * reaction-time exclusive, with optional null stimuli (§7.5). One loop
 * serves both; the decision cores (adaptive.c) choose the levels.
 */
#define LOG_PREFIX "yesno: "

#include <math.h>
#include <stdio.h>

#include "qst_adaptive.h"
#include "qst_analysis.h"
#include "qst_methods.h"

/* Presses this soon after onset are anticipations (qst-domain.md §7.5). */
#define SUSPECT_LATENCY_S 0.100
/* Null stimuli last as long as a stimulus to a level this far away, so
 * their timing does not give them away. */
#define NULL_STEP_C 4.0

/* A decision core behind one interface, so that one loop runs both. */
struct yesno_core {
	double (*level)(const void *core);
	int (*respond)(void *core, bool yes);
	void *core;
};

static double levels_level(const void *c) { return qst_levels_level(c); }
static int levels_respond(void *c, bool yes) { return qst_levels_respond(c, yes); }
static double stair_level(const void *c) { return qst_staircase_level(c); }
static int stair_respond(void *c, bool yes) { return qst_staircase_respond(c, yes); }

static void trial_init(const struct qst_yesno_params *p, int rep,
		       struct qst_trial_record *t)
{
	*t = (struct qst_trial_record){
		.test = p->test, .repetition = rep, .direction = p->direction,
		.baseline_c = p->baseline_c, .rate_c_s = p->rate_c_s,
		.return_rate_c_s = p->return_rate_c_s, .cutoff_c = p->cutoff_c,
		.value_measured = NAN, .value_commanded = NAN,
		.latency_s = NAN, .device_rt_s = NAN, .t_response_ns = -1,
		.key = -1, .quality = QST_QUALITY_NONE,
		.flags = QST_TRIAL_ADAPTIVE,
	};
}

/* The answer: a press is a YES whatever the temperature at it (RT
 * exclusive); the value is what the plate held. */
static void take_answer(const struct qst_rig_ops *ops, void *rig,
			const struct qst_press *press, bool pressed,
			int64_t plateau_end, struct qst_trial_record *t)
{
	t->value_measured = ops->measured_at(rig, plateau_end);
	if (isnan(t->value_measured)) {
		t->value_measured = t->value_commanded;
		t->flags |= QST_TRIAL_NO_READBACK;
	}
	if (!pressed)
		return;
	t->t_response_ns = press->t_ns;
	t->latency_s = qst_ns_to_s(press->t_ns - t->t_onset_ns);
	t->device_rt_s = press->device_rt_s;
	t->key = press->key;
	if (t->latency_s < SUSPECT_LATENCY_S)
		t->flags |= QST_TRIAL_RESPONSE_SUSPECT;
}

/* One presentation from its ISI to the plate back at baseline. */
static int present_stimulus(const struct qst_rig_ops *ops, void *rig,
			    const struct qst_yesno_params *p, bool null,
			    struct qst_trial_record *t)
{
	int ret = qst_method_thermal_onset(ops, rig, p->test, p->direction,
					   p->baseline_c, p->isi_s,
					   p->isi_jitter_s, t);
	if (ret < 0)
		return ret;
	double span = null ? NULL_STEP_C : fabs(t->value_commanded - p->baseline_c);
	/* §7.5: a null stimulus changes nothing, the plate stays put. */
	if (!null && (ret = ops->ramp(rig, t->value_commanded, p->rate_c_s,
				      p->hold_s, p->return_rate_c_s)) < 0)
		return ret;
	int64_t plateau_end = t->t_onset_ns +
			      qst_s_to_ns(span / p->rate_c_s + p->hold_s);
	int64_t deadline = plateau_end + qst_s_to_ns(p->window_s);
	struct qst_press press;
	int pressed = ops->await_press(rig, deadline, &press);
	if (pressed < 0)
		return pressed;
	/* The window runs out whatever the answer: its length must not
	 * depend on the subject (later presses are logged, not answers). */
	if (pressed == 1 && (ret = qst_method_idle(ops, rig, deadline)) < 0)
		return ret;
	take_answer(ops, rig, &press, pressed == 1, plateau_end, t);
	struct qst_task done = { QST_TASK_NONE, p->direction, p->baseline_c };
	ops->task(rig, &done);
	return qst_method_settle(ops, rig, p->baseline_c, t->value_commanded,
				 p->return_rate_c_s);
}

static int present(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_yesno_params *p, int rep, double level,
		   bool null, bool *yes)
{
	struct qst_trial_record t;
	trial_init(p, rep, &t);
	t.value_commanded = null ? p->baseline_c : level;
	if (null)
		t.flags |= QST_TRIAL_CATCH;
	t.trial_id = ops->trial_begin(rig);
	t.t_start_ns = t.t_onset_ns = ops->now(rig);
	int ret = present_stimulus(ops, rig, p, null, &t);
	if (ret < 0)
		return qst_method_abort_trial(ops, rig, &t, ret);
	*yes = t.t_response_ns >= 0;
	if (null && *yes) /* §7.5: a false alarm */
		t.flags |= QST_TRIAL_RESPONSE_SUSPECT;
	t.t_stop_ns = ops->now(rig);
	qst_info("%s %s %d: %.2f degC %s", qst_param_name(p->test),
		 null ? "null stimulus" : "level", rep, t.value_commanded,
		 *yes ? "YES" : "no");
	return ops->trial_end(rig, &t);
}

/* Present until the core is done, interleaving null stimuli. */
static int run_yesno(const struct qst_rig_ops *ops, void *rig,
		     const struct qst_yesno_params *p, struct yesno_core *c,
		     struct qst_catch *katch, struct qst_adaptive_result *out)
{
	int ret = ops->set_baseline(rig, p->baseline_c);
	int state = QST_ADAPT_CONTINUE, rep = 0, resumes = 0;
	while (ret >= 0 && state == QST_ADAPT_CONTINUE) {
		bool null = qst_catch_next(katch);
		bool yes = false;
		ret = present(ops, rig, p, ++rep, c->level(c->core), null, &yes);
		if (qst_method_should_repeat(&ret, &resumes))
			continue; /* the aborted row keeps its number */
		if (ret < 0)
			break;
		if (null) {
			qst_catch_record(katch, yes);
			continue;
		}
		out->presentations++;
		state = c->respond(c->core, yes);
		if (state < 0)
			ret = state;
	}
	out->n_catch = katch->n_catch;
	out->false_alarms = katch->n_false_alarms;
	return ret < 0 ? ret : QST_OK;
}

static void record_estimate(const struct qst_rig_ops *ops, void *rig,
			    const char *method, int test,
			    const struct qst_adaptive_result *r)
{
	char msg[200];
	snprintf(msg, sizeof(msg),
		 "%s %s: threshold %.3f degC after %d presentations (end 0x%x), "
		 "%d null stimuli, %d false alarms",
		 method, qst_param_name(test), r->threshold, r->presentations,
		 r->end, r->n_catch, r->false_alarms);
	qst_info("%s", msg);
	ops->event(rig, QST_EVC_LOG, r->threshold, r->false_alarms, msg);
}

static bool yesno_ok(const struct qst_yesno_params *p)
{
	bool thermal = p->test == QST_CDT || p->test == QST_WDT ||
		       p->test == QST_CPT || p->test == QST_HPT;
	if (!thermal || (p->direction != 1 && p->direction != -1) ||
	    !(p->rate_c_s > 0) || !(p->return_rate_c_s > 0) ||
	    !(p->hold_s >= 0) || !(p->window_s > 0)) {
		qst_err("%s: not a thermal yes/no test, or rates/times out of range",
			qst_param_name(p->test));
		return false;
	}
	return true;
}

static void result_init(struct qst_adaptive_result *out)
{
	*out = (struct qst_adaptive_result){ .threshold = NAN };
}

int qst_method_levels(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_levels_params *p, uint64_t catch_seed,
		      struct qst_adaptive_result *out)
{
	result_init(out);
	const struct qst_yesno_params *yn = &p->yn;
	struct qst_levels_rule rule = {
		.direction = yn->direction, .start = p->start_c,
		.initial_step = p->initial_step_c, .min_step = p->min_step_c,
		.floor = yn->baseline_c, .ceiling = yn->cutoff_c,
		.max_trials = yn->max_trials,
	};
	struct qst_levels lv;
	struct qst_catch katch;
	if (!yesno_ok(yn) || qst_levels_init(&lv, &rule) < 0 ||
	    qst_catch_init(&katch, yn->catch_p, catch_seed) < 0)
		return QST_ERR_ARG;
	struct yesno_core core = { levels_level, levels_respond, &lv };
	int ret = run_yesno(ops, rig, yn, &core, &katch, out);
	out->threshold = qst_levels_threshold(&lv);
	out->end = lv.end;
	if (ret == QST_OK)
		record_estimate(ops, rig, "levels", yn->test, out);
	return ret;
}

int qst_method_staircase(const struct qst_rig_ops *ops, void *rig,
			 const struct qst_staircase_params *p,
			 uint64_t catch_seed, struct qst_adaptive_result *out)
{
	result_init(out);
	const struct qst_yesno_params *yn = &p->yn;
	struct qst_staircase_rule rule = {
		.direction = yn->direction, .n_down = p->n_down,
		.start = p->start_c, .step = p->step_c,
		.min_step = p->min_step_c, .max_reversals = p->reversals,
		.max_trials = yn->max_trials, .last_k = p->last_k,
		.floor = p->floor_c, .ceiling = yn->cutoff_c,
	};
	struct qst_staircase s;
	struct qst_catch katch;
	if (!yesno_ok(yn) || qst_staircase_init(&s, &rule) < 0 ||
	    qst_catch_init(&katch, yn->catch_p, catch_seed) < 0)
		return QST_ERR_ARG;
	struct yesno_core core = { stair_level, stair_respond, &s };
	int ret = run_yesno(ops, rig, yn, &core, &katch, out);
	out->threshold = qst_staircase_threshold(&s);
	out->end = s.end;
	if (ret == QST_OK)
		record_estimate(ops, rig, "staircase", yn->test, out);
	return ret;
}
