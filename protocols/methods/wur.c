/*
 * Pinprick wind-up (qst-domain.md §2.7): a single pinprick, rated, then a
 * train of pinpricks at train_hz within about 1 cm², rated as a whole;
 * the pair repeated. The station clock paces the train: a cue to the
 * operator at exactly t0 + k / train_hz (§7.6 asks for jitter well below
 * 100 ms), so the rate does not depend on the operator counting.
 * Rows: direction -1 = the single stimulus, +1 = the train (aggregate.c).
 */
#define LOG_PREFIX "wur: "

#include <math.h>
#include <stdio.h>

#include "manual_internal.h"
#include "qst_analysis.h"

#define MAX_REPETITIONS 20
#define MAX_TRAIN 50
/* A cue this late is worth a record (§7.6: jitter ≪ 100 ms). */
#define LATE_CUE_NS (20 * QST_NS_PER_MS)

static bool wur_params_ok(const struct qst_wur_params *p)
{
	if (p->repetitions < 1 || p->repetitions > MAX_REPETITIONS ||
	    p->train_length < 1 || p->train_length > MAX_TRAIN ||
	    !(p->train_hz > 0.0 && p->train_hz <= 10.0) ||
	    !(p->force_mn > 0.0 && p->force_mn <= 1024.0)) {
		qst_err("WUR: implausible parameters (repetitions %d, train %d "
			"at %g Hz, %g mN)",
			p->repetitions, p->train_length, p->train_hz,
			p->force_mn);
		return false;
	}
	return true;
}

static void site_suffix(const struct qst_wur_params *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", p->site_text[0] ? " at " : "",
		 p->site_text);
}

/* Until deadline, from the station's pacer where the rig has one (a cue
 * exactly on time, issue 6); a press meanwhile starts nothing and is only
 * recorded. */
static int pace_until(const struct qst_rig_ops *ops, void *rig,
		      int64_t deadline_ns)
{
	struct qst_press press;
	int ret;
	while ((ret = ops->pace ? ops->pace(rig, deadline_ns, &press) :
				  ops->await_press(rig, deadline_ns, &press)) == 1)
		ops->event(rig, QST_EVC_LOG, press.key, NAN,
			   "key press during the pinprick train (ignored)");
	return ret < 0 ? ret : QST_OK;
}

static int rate(const struct qst_rig_ops *ops, void *rig,
		const struct qst_wur_params *p, struct qst_trial_record *t,
		int stimulus, const char *text)
{
	struct qst_question q = {
		.test = QST_WUR, .kind = QST_ANSWER_RATING, .text = text,
		.stimulus = stimulus, .stimulus_value = p->force_mn,
	};
	struct qst_answer a;
	int ret = qst_manual_ask(ops, rig, &q, &a);
	if (ret == QST_METHOD_NOT_DONE)
		return qst_manual_abandon(ops, rig, t);
	if (ret < 0)
		return ret;
	qst_info("WUR %d %s: %g", t->repetition,
		 t->direction < 0 ? "single" : "train", a.value);
	return qst_manual_finish(ops, rig, t, a.value, &a);
}

static int single_stimulus(const struct qst_rig_ops *ops, void *rig,
			   const struct qst_wur_params *p, int rep)
{
	struct qst_trial_record t;
	qst_manual_trial_init(&t, QST_WUR, rep, -1);
	t.value_commanded = p->force_mn;
	char site[80], text[256];
	site_suffix(p, site, sizeof(site));
	snprintf(text, sizeof(text),
		 "WUR %d/%d: apply ONE pinprick %g mN%s, pain rating 0-100?",
		 rep, p->repetitions, p->force_mn, site);
	t.trial_id = ops->trial_begin(rig);
	t.t_start_ns = t.t_onset_ns = ops->now(rig);
	return rate(ops, rig, p, &t, QST_STIM_PINPRICK, text);
}

/* The cues of one train; the worst lateness is recorded, not hidden. */
static int paced_train(const struct qst_rig_ops *ops, void *rig,
		       const struct qst_wur_params *p,
		       struct qst_trial_record *t)
{
	int64_t period = qst_s_to_ns(1.0 / p->train_hz);
	char text[160];
	snprintf(text, sizeof(text),
		 "WUR %d/%d: train of %d pinpricks %g mN at %g Hz, one per "
		 "cue; first cue in %g s",
		 t->repetition, p->repetitions, p->train_length, p->force_mn,
		 p->train_hz, 1.0 / p->train_hz);
	ops->cue(rig, text);
	int64_t t0 = ops->now(rig) + period;
	int64_t worst = 0;
	for (int k = 0; k < p->train_length; k++) {
		int64_t due = t0 + k * period;
		int ret = pace_until(ops, rig, due);
		if (ret < 0)
			return ret;
		int64_t late = ops->now(rig) - due;
		worst = late > worst ? late : worst;
		snprintf(text, sizeof(text), "apply pinprick %d/%d", k + 1,
			 p->train_length);
		ops->cue(rig, text);
	}
	t->t_onset_ns = t0;
	if (worst > LATE_CUE_NS) {
		qst_warn("WUR train %d: a cue came %.0f ms late", t->repetition,
			 qst_ns_to_s(worst) * 1e3);
		ops->event(rig, QST_EVC_LOG, qst_ns_to_s(worst), NAN,
			   "WUR train cue late (value = worst lateness, s)");
	}
	return QST_OK;
}

static int train(const struct qst_rig_ops *ops, void *rig,
		 const struct qst_wur_params *p, int rep)
{
	struct qst_trial_record t;
	qst_manual_trial_init(&t, QST_WUR, rep, +1);
	t.value_commanded = p->force_mn;
	t.trial_id = ops->trial_begin(rig);
	t.t_start_ns = ops->now(rig);
	int ret = paced_train(ops, rig, p, &t);
	if (ret < 0)
		return ret;
	char site[80], text[256];
	site_suffix(p, site, sizeof(site));
	snprintf(text, sizeof(text),
		 "WUR %d/%d: pain rating 0-100 of the whole train of %d%s?",
		 rep, p->repetitions, p->train_length, site);
	return rate(ops, rig, p, &t, QST_STIM_PINPRICK_TRAIN, text);
}

int qst_method_wur(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_wur_params *p)
{
	if (!wur_params_ok(p))
		return QST_ERR_ARG;
	for (int rep = 1; rep <= p->repetitions; rep++) {
		int ret = single_stimulus(ops, rig, p, rep);
		if (ret == QST_OK)
			ret = train(ops, rig, p, rep);
		if (ret != QST_OK)
			return ret;
	}
	return QST_OK;
}
