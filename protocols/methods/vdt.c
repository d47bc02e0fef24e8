/*
 * Vibration detection threshold with the 64 Hz Rydel–Seiffer fork
 * (qst-domain.md §2.8): readings in x/8, arithmetic mean in analysis.
 * An optional catch trial (§7.5) applies a non-vibrating fork at a
 * pseudo-random place among the readings and asks whether the subject
 * feels vibration. A "yes" makes every VDT reading of this test suspect,
 * including the ones before it, so the rows are written only once the
 * sham is known (a crash meanwhile loses at most these few readings; each
 * answer is already in the event table through ops->ask).
 */
#define LOG_PREFIX "vdt: "

#include <math.h>
#include <stdio.h>

#include "manual_internal.h"
#include "qst_analysis.h"

#define MAX_READINGS 20

struct reading {
	int64_t t_start_ns;
	struct qst_answer answer;
};

static void site_suffix(const struct qst_vdt_params *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", p->site_text[0] ? " at " : "",
		 p->site_text);
}

static int ask_reading(const struct qst_rig_ops *ops, void *rig,
		       const struct qst_vdt_params *p, int index,
		       struct reading *r)
{
	char site[80], text[256];
	site_suffix(p, site, sizeof(site));
	snprintf(text, sizeof(text),
		 "VDT %d/%d: place the vibrating 64 Hz fork%s; reading x/8 "
		 "when the subject no longer feels vibration?",
		 index, p->readings, site);
	struct qst_question q = {
		.test = QST_VDT, .kind = QST_ANSWER_EIGHTHS, .text = text,
		.stimulus = QST_STIM_TUNING_FORK, .stimulus_value = NAN,
	};
	r->t_start_ns = ops->now(rig);
	return qst_manual_ask(ops, rig, &q, &r->answer);
}

/* *felt is set when the subject reports vibration from the sham. */
static int ask_sham(const struct qst_rig_ops *ops, void *rig,
		    const struct qst_vdt_params *p, bool *felt)
{
	char site[80], text[256];
	site_suffix(p, site, sizeof(site));
	snprintf(text, sizeof(text),
		 "VDT catch trial: place the NON-vibrating fork%s; does the "
		 "subject feel vibration?",
		 site);
	struct qst_question q = {
		.test = QST_VDT, .kind = QST_ANSWER_YESNO, .text = text,
		.stimulus = QST_STIM_SHAM_FORK, .stimulus_value = NAN,
	};
	struct qst_answer a;
	int ret = qst_manual_ask(ops, rig, &q, &a);
	if (ret != QST_OK || a.value != 1.0)
		return ret;
	*felt = true;
	qst_warn("VDT: vibration reported for the sham fork");
	ops->event(rig, QST_EVC_LOG, 1.0, NAN,
		   "VDT sham fork felt: every VDT reading flagged suspect (§7.5)");
	return QST_OK;
}

static int write_rows(const struct qst_rig_ops *ops, void *rig,
		      const struct reading *r, int n, bool suspect)
{
	for (int i = 0; i < n; i++) {
		struct qst_trial_record t;
		qst_manual_trial_init(&t, QST_VDT, i + 1, 0);
		if (suspect)
			t.flags |= QST_TRIAL_RESPONSE_SUSPECT;
		t.trial_id = ops->trial_begin(rig);
		t.t_start_ns = t.t_onset_ns = r[i].t_start_ns;
		qst_info("VDT %d: %g/8%s", i + 1, r[i].answer.value,
			 suspect ? " (suspect)" : "");
		int ret = qst_manual_finish(ops, rig, &t, r[i].answer.value,
					    &r[i].answer);
		if (ret < 0)
			return ret;
	}
	return QST_OK;
}

int qst_method_vdt(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_vdt_params *p)
{
	if (p->readings < 1 || p->readings > MAX_READINGS) {
		qst_err("VDT: readings %d out of range 1..%d", p->readings,
			MAX_READINGS);
		return QST_ERR_ARG;
	}
	/* Before the first reading, between two, or after the last. */
	int sham_at = -1;
	if (p->sham) {
		sham_at = (int)(ops->uniform(rig) * (p->readings + 1));
		sham_at = sham_at > p->readings ? p->readings : sham_at;
	}
	struct reading r[MAX_READINGS];
	int done = 0, ret = QST_OK;
	bool suspect = false;
	for (int slot = 0; slot <= p->readings && ret == QST_OK; slot++) {
		if (slot == sham_at)
			ret = ask_sham(ops, rig, p, &suspect);
		if (ret == QST_OK && slot < p->readings) {
			ret = ask_reading(ops, rig, p, slot + 1, &r[done]);
			done += ret == QST_OK;
		}
	}
	if (ret < 0)
		return ret;
	int written = write_rows(ops, rig, r, done, suspect);
	return written < 0 ? written : ret;
}
