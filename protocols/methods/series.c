/*
 * DFNS modified method of limits (qst-domain.md §2.4 MDT, §2.5 MPT) over a
 * discrete factor-2 stimulus set. Descending and ascending series
 * alternate, starting with a descending one at the start level. A
 * descending series ends at the first level not detected (a subthreshold
 * value), an ascending one at the first level detected (a suprathreshold
 * value); the next series starts one level beyond that end point. With
 * series_pairs = 5 this gives the 10 values whose geometric mean is the
 * threshold. One trial row per series; every application is recorded by
 * ops->ask.
 */
#define LOG_PREFIX "series: "

#include <math.h>
#include <stdio.h>

#include "manual_internal.h"
#include "qst_analysis.h"

/* qst-domain.md §1.4: the von Frey set 0.25..512 mN, pinpricks 8..512 mN. */
#define VONFREY_MIN_MN 0.25
#define PINPRICK_MIN_MN 8.0
/* Longest series a script may ask for (plausibility, as the engine). */
#define MAX_SERIES_PAIRS 20

struct stimulus_set {
	int stimulus;         /* enum qst_stimulus */
	int kind;             /* enum qst_answer_kind */
	double first_mn;      /* level 0; level i = first * 2^i */
	int levels;
	const char *question; /* what the operator asks */
};

static const struct stimulus_set vonfrey_set = {
	QST_STIM_VONFREY, QST_ANSWER_YESNO, VONFREY_MIN_MN, QST_VONFREY_LEVELS,
	"felt it?",
};
static const struct stimulus_set pinprick_set = {
	QST_STIM_PINPRICK, QST_ANSWER_SHARP_BLUNT, PINPRICK_MIN_MN,
	QST_PINPRICK_LEVELS, "sharp or blunt?",
};

/* Level -1 and `levels` are the virtual next levels (0.125, 1024 mN). */
static double level_mn(const struct stimulus_set *set, int level)
{
	return ldexp(set->first_mn, level);
}

/* Index of mn in the set, or -1 when it is not one of its levels. */
static int level_of(const struct stimulus_set *set, double mn)
{
	for (int i = 0; i < set->levels; i++)
		if (fabs(level_mn(set, i) - mn) <= 1e-9 * mn)
			return i;
	return -1;
}

static bool series_params_ok(const struct qst_series_params *p,
			     const struct stimulus_set *set)
{
	if (p->series_pairs < 1 || p->series_pairs > MAX_SERIES_PAIRS) {
		qst_err("%s: series_pairs %d out of range 1..%d",
			qst_param_name(p->test), p->series_pairs,
			MAX_SERIES_PAIRS);
		return false;
	}
	if (level_of(set, p->start_mn) < 0) {
		qst_err("%s: start %g mN is not a level of the set (%g to %g mN "
			"in factor-2 steps)",
			qst_param_name(p->test), p->start_mn,
			level_mn(set, 0), level_mn(set, set->levels - 1));
		return false;
	}
	if (p->out_of_range != QST_OOR_CLAMP &&
	    p->out_of_range != QST_OOR_NEXT_LEVEL) {
		qst_err("%s: unknown out-of-range rule %d",
			qst_param_name(p->test), p->out_of_range);
		return false;
	}
	return true;
}

/* What a series that ran off the set at virtual level `level` yields. */
static void assign_out_of_range(const struct qst_series_params *p,
				const struct stimulus_set *set, int level,
				struct qst_trial_record *t)
{
	int edge = level < 0 ? 0 : set->levels - 1;
	t->value_commanded = level_mn(set, edge);
	t->value_measured = p->out_of_range == QST_OOR_CLAMP ?
				    level_mn(set, edge) :
				    level_mn(set, level);
	t->flags |= QST_TRIAL_OUT_OF_RANGE;
	char msg[128];
	snprintf(msg, sizeof(msg),
		 "%s series %d: %s at %g mN, assigned %g mN (%s)",
		 qst_param_name(p->test), t->repetition,
		 level < 0 ? "still detected" : "never detected",
		 t->value_commanded, t->value_measured,
		 p->out_of_range == QST_OOR_CLAMP ? "clamp" : "next level");
	qst_warn("%s", msg);
}

static void series_question(const struct qst_series_params *p,
			    const struct stimulus_set *set,
			    const struct qst_trial_record *t, int total,
			    int level, char *text, size_t len)
{
	snprintf(text, len, "%s series %d/%d %s: apply %s %g mN%s%s, %s",
		 qst_param_name(p->test), t->repetition, total,
		 t->direction < 0 ? "descending" : "ascending",
		 qst_stimulus_name(set->stimulus), level_mn(set, level),
		 p->site_text[0] ? " at " : "", p->site_text, set->question);
}

/*
 * One series from *level in direction t->direction. On return *level is
 * the end point (possibly virtual: -1 or set->levels).
 */
static int run_series(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_series_params *p,
		      const struct stimulus_set *set,
		      struct qst_trial_record *t, int total, int *level)
{
	int dir = t->direction;
	struct qst_answer a = { .t_ns = -1 };
	char text[256];
	t->trial_id = ops->trial_begin(rig);
	t->t_start_ns = t->t_onset_ns = ops->now(rig);
	for (; *level >= 0 && *level < set->levels; *level += dir) {
		series_question(p, set, t, total, *level, text, sizeof(text));
		struct qst_question q = {
			.test = p->test, .kind = set->kind, .text = text,
			.stimulus = set->stimulus,
			.stimulus_value = level_mn(set, *level),
		};
		int ret = qst_manual_ask(ops, rig, &q, &a);
		if (ret == QST_METHOD_NOT_DONE)
			return qst_manual_abandon(ops, rig, t);
		if (ret < 0)
			return ret;
		bool detected = a.value == 1.0;
		/* Descending ends at the first miss, ascending at the first hit. */
		if (detected == (dir > 0)) {
			t->value_commanded = level_mn(set, *level);
			break;
		}
	}
	double value = t->value_commanded;
	if (*level < 0 || *level >= set->levels) {
		assign_out_of_range(p, set, *level, t);
		value = t->value_measured;
	}
	qst_info("%s series %d (%s): %g mN%s", qst_param_name(p->test),
		 t->repetition, dir < 0 ? "sub" : "supra", value,
		 (t->flags & QST_TRIAL_OUT_OF_RANGE) ? " (out of range)" : "");
	return qst_manual_finish(ops, rig, t, value, &a);
}

int qst_method_series(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_series_params *p)
{
	const struct stimulus_set *set =
		p->test == QST_MDT ? &vonfrey_set :
		p->test == QST_MPT ? &pinprick_set : NULL;
	if (!set) {
		qst_err("test %d is not MDT or MPT", p->test);
		return QST_ERR_ARG;
	}
	if (!series_params_ok(p, set))
		return QST_ERR_ARG;
	int total = 2 * p->series_pairs;
	int level = level_of(set, p->start_mn);
	for (int s = 1; s <= total; s++) {
		struct qst_trial_record t;
		qst_manual_trial_init(&t, p->test, s, s % 2 ? -1 : +1);
		int ret = run_series(ops, rig, p, set, &t, total, &level);
		if (ret != QST_OK)
			return ret;
		/* The next series runs the other way from the adjacent level,
		 * or from the end of the set after an out-of-range end. */
		level -= t.direction;
		level = level < 0 ? 0 :
			level >= set->levels ? set->levels - 1 : level;
	}
	return QST_OK;
}
