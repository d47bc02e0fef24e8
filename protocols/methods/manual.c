/*
 * What every operator-guided method shares: the names of the stimuli, a
 * manual trial row, and an ask that never lets an out-of-range answer
 * become data.
 */
#define LOG_PREFIX "manual: "

#include <math.h>
#include <string.h>

#include "manual_internal.h"
#include "qst_analysis.h"

/* qst-domain.md §1.4, §7.4: NRS 0..100; the fork reads 0/8..8/8. */
#define RATING_MAX 100.0
#define EIGHTHS_MAX 8.0

const char *qst_stimulus_name(int stimulus)
{
	switch (stimulus) {
	case QST_STIM_NONE:
		return "none";
	case QST_STIM_VONFREY:
		return "von Frey filament";
	case QST_STIM_PINPRICK:
		return "pinprick";
	case QST_STIM_COTTON_WISP:
		return "cotton wisp";
	case QST_STIM_QTIP:
		return "Q-tip";
	case QST_STIM_BRUSH:
		return "brush";
	case QST_STIM_PINPRICK_TRAIN:
		return "pinprick train";
	case QST_STIM_TUNING_FORK:
		return "tuning fork";
	case QST_STIM_SHAM_FORK:
		return "sham fork";
	default:
		return "unknown stimulus";
	}
}

void qst_manual_trial_init(struct qst_trial_record *t, int test,
			   int repetition, int direction)
{
	memset(t, 0, sizeof(*t));
	t->test = test;
	t->repetition = repetition;
	t->direction = direction;
	t->baseline_c = t->rate_c_s = t->return_rate_c_s = t->cutoff_c = NAN;
	t->value_measured = t->value_commanded = NAN;
	t->latency_s = t->device_rt_s = NAN;
	t->t_response_ns = -1;
	t->key = -1;
	t->quality = QST_QUALITY_NONE;
}

static bool answer_fits(int kind, double v)
{
	switch (kind) {
	case QST_ANSWER_YESNO:
	case QST_ANSWER_SHARP_BLUNT:
		return v == 0.0 || v == 1.0;
	case QST_ANSWER_RATING:
		return v >= 0.0 && v <= RATING_MAX;
	case QST_ANSWER_EIGHTHS:
		return v >= 0.0 && v <= EIGHTHS_MAX;
	default:
		return false;
	}
}

int qst_manual_ask(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_question *q, struct qst_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->value = NAN;
	int ret = ops->ask(rig, q, a);
	if (ret < 0)
		return ret;
	if (a->not_done)
		return QST_METHOD_NOT_DONE;
	if (!answer_fits(q->kind, a->value)) {
		qst_err("%s: answer %g does not fit the question \"%s\"",
			qst_param_name(q->test), a->value, q->text);
		return QST_ERR_DATA;
	}
	return QST_OK;
}

int qst_manual_abandon(const struct qst_rig_ops *ops, void *rig,
		       struct qst_trial_record *t)
{
	t->flags |= QST_TRIAL_ABORTED;
	t->value_measured = NAN;
	t->t_stop_ns = ops->now(rig);
	qst_info("%s not done: trial %d abandoned", qst_param_name(t->test),
		 t->repetition);
	int ret = ops->trial_end(rig, t);
	return ret < 0 ? ret : QST_METHOD_NOT_DONE;
}

int qst_manual_finish(const struct qst_rig_ops *ops, void *rig,
		      struct qst_trial_record *t, double value,
		      const struct qst_answer *a)
{
	t->value_measured = value;
	t->t_response_ns = a->t_ns;
	t->t_stop_ns = ops->now(rig);
	return ops->trial_end(rig, t);
}
