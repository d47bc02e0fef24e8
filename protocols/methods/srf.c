/*
 * Stimulus–response function for MPS and DMA (qst-domain.md §2.6): runs of
 * the 7 pinpricks and the 3 light-touch stimuli, each run in its own
 * pseudo-random order, every stimulus rated 0–100. The order comes from a
 * qst_rng seeded with the host's seed, so a session can be replayed, and
 * each run's order is recorded before it starts.
 *
 * Light touch has no commanded force in the rows: §1.4 gives only rough,
 * unconfirmed forces ([U]), and a guess stored as a measurement would be
 * read as one. The stimulus itself is in the QST_EVC_STIMULUS event.
 */
#define LOG_PREFIX "srf: "

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "manual_internal.h"
#include "qst_analysis.h"

#define SRF_STIMULI (QST_PINPRICK_LEVELS + 3)
#define PINPRICK_MIN_MN 8.0 /* §1.4 */
#define MAX_RUNS 20

struct srf_stimulus {
	int stimulus; /* enum qst_stimulus */
	double mn;    /* pinprick force, NaN for light touch */
};

static struct srf_stimulus srf_stimulus_at(int i)
{
	static const int touch[3] = { QST_STIM_COTTON_WISP, QST_STIM_QTIP,
				      QST_STIM_BRUSH };
	if (i < QST_PINPRICK_LEVELS)
		return (struct srf_stimulus){ QST_STIM_PINPRICK,
					      ldexp(PINPRICK_MIN_MN, i) };
	return (struct srf_stimulus){ touch[i - QST_PINPRICK_LEVELS], NAN };
}

/*
 * Fisher–Yates over the 10 stimuli. The first of a run is never the last
 * of the run before, so no stimulus is given twice in a row.
 */
static void shuffle_run(struct qst_rng *rng, int order[SRF_STIMULI],
			int previous_last)
{
	for (int i = 0; i < SRF_STIMULI; i++)
		order[i] = i;
	for (int i = SRF_STIMULI - 1; i > 0; i--) {
		int j = (int)(qst_rng_uniform(rng) * (i + 1));
		int tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	if (order[0] == previous_last) {
		int j = 1 + (int)(qst_rng_uniform(rng) * (SRF_STIMULI - 1));
		order[0] = order[j];
		order[j] = previous_last;
	}
}

static void describe(struct srf_stimulus s, char *buf, size_t len)
{
	if (s.stimulus == QST_STIM_PINPRICK)
		snprintf(buf, len, "%g mN", s.mn);
	else
		snprintf(buf, len, "%s", qst_stimulus_name(s.stimulus));
}

static void record_order(const struct qst_rig_ops *ops, void *rig, int run,
			 const int order[SRF_STIMULI], uint64_t seed)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "MPS/DMA run %d order (seed %llu):",
			 run, (unsigned long long)seed);
	for (int i = 0; i < SRF_STIMULI && n > 0 && (size_t)n < sizeof(msg);
	     i++) {
		char what[32];
		describe(srf_stimulus_at(order[i]), what, sizeof(what));
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%s %s",
			      i ? "," : "", what);
	}
	ops->event(rig, QST_EVC_LOG, run, NAN, msg);
	qst_info("%s", msg);
}

static int rate_stimulus(const struct qst_rig_ops *ops, void *rig,
			 const struct qst_srf_params *p, int run,
			 struct srf_stimulus s)
{
	bool pin = s.stimulus == QST_STIM_PINPRICK;
	struct qst_trial_record t;
	qst_manual_trial_init(&t, pin ? QST_MPS : QST_DMA, run, 0);
	t.value_commanded = s.mn;
	char what[32], text[256];
	describe(s, what, sizeof(what));
	snprintf(text, sizeof(text),
		 "MPS/DMA run %d/%d: apply %s%s%s%s, pain rating 0-100?", run,
		 p->runs, pin ? "pinprick " : "", what,
		 p->site_text[0] ? " at " : "", p->site_text);
	struct qst_question q = {
		.test = t.test, .kind = QST_ANSWER_RATING, .text = text,
		.stimulus = s.stimulus, .stimulus_value = pin ? s.mn : NAN,
	};
	struct qst_answer a;
	t.trial_id = ops->trial_begin(rig);
	t.t_start_ns = t.t_onset_ns = ops->now(rig);
	int ret = qst_manual_ask(ops, rig, &q, &a);
	if (ret == QST_METHOD_NOT_DONE)
		return qst_manual_abandon(ops, rig, &t);
	if (ret < 0)
		return ret;
	return qst_manual_finish(ops, rig, &t, a.value, &a);
}

int qst_method_srf(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_srf_params *p, uint64_t seed)
{
	if (p->runs < 1 || p->runs > MAX_RUNS) {
		qst_err("MPS/DMA: runs %d out of range 1..%d", p->runs,
			MAX_RUNS);
		return QST_ERR_ARG;
	}
	struct qst_rng rng;
	qst_rng_seed(&rng, seed);
	int last = -1;
	for (int run = 1; run <= p->runs; run++) {
		int order[SRF_STIMULI];
		shuffle_run(&rng, order, last);
		record_order(ops, rig, run, order, seed);
		for (int i = 0; i < SRF_STIMULI; i++) {
			int ret = rate_stimulus(ops, rig, p, run,
						srf_stimulus_at(order[i]));
			if (ret != QST_OK)
				return ret;
		}
		last = order[SRF_STIMULI - 1];
	}
	return QST_OK;
}
