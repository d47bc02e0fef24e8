/*
 * Pressure pain threshold with a digital algometer (qst-domain.md §2.9,
 * §8.3): a 1 cm² probe over muscle, ramped by the operator at ≈50 kPa/s
 * until the subject presses the button at the first pain; 3 trials,
 * arithmetic mean in analysis. The press is the ramp's end, like the
 * ramped method of limits (§7.1), so the value includes the reaction time.
 *
 * The trial row reuses the thermal record's fields: value_measured = kPa
 * read at the press, value_commanded = NaN (nobody commands a pressure,
 * a hand applies it), baseline_c = 0 (no pressure between trials),
 * cutoff_c = the ceiling in kPa, and rate_c_s holds the ramp rate the
 * operator achieved in kPa/s (least-squares slope of the readings), so a
 * reviewer can see how close to 50 kPa/s each ramp was.
 */
#define LOG_PREFIX "ppt: "

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "manual_internal.h"
#include "qst_analysis.h"

/* How often the ramp is checked against the ceiling: ≤ 1 kPa late at 50 kPa/s. */
#define SLICE_NS (20 * QST_NS_PER_MS)
/* Below this the probe is not yet (or no longer) loaded: not part of the
 * ramp, and the level that counts as released. */
#define CONTACT_KPA 5.0
/* A hand lets go in well under a second; 10 s means the gauge is wrong. */
#define RELEASE_TIMEOUT_NS (10 * QST_NS_PER_S)
/* Presses this soon after the ramp starts are anticipations (§7.5). */
#define SUSPECT_LATENCY_S 0.100
#define MAX_TRIALS 20
#define MAX_RATE_KPA_S 500.0
#define MAX_ISI_S 600.0
/* One sample per slice over the longest ramp (60 s / 20 ms), the press. */
#define MAX_SAMPLES 3010

double qst_ppt_rate_kpa_s(const double *t_s, const double *kpa, size_t n)
{
	if (!t_s || !kpa || n < 2)
		return NAN;
	double mt = 0, mk = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(t_s[i]) || !isfinite(kpa[i]))
			return NAN;
		mt += t_s[i];
		mk += kpa[i];
	}
	mt /= (double)n;
	mk /= (double)n;
	double sxx = 0, sxy = 0;
	for (size_t i = 0; i < n; i++) {
		sxx += (t_s[i] - mt) * (t_s[i] - mt);
		sxy += (t_s[i] - mt) * (kpa[i] - mk);
	}
	return sxx > 0 ? sxy / sxx : NAN;
}

struct ramp {
	double t_s[MAX_SAMPLES];
	double kpa[MAX_SAMPLES];
	size_t n;
};

enum ramp_end { ENDED_PRESS, ENDED_CEILING, ENDED_TIMEOUT };

static void add_sample(struct ramp *r, int64_t t_ns, double kpa)
{
	if (r->n < MAX_SAMPLES && isfinite(kpa) && kpa >= CONTACT_KPA) {
		r->t_s[r->n] = qst_ns_to_s(t_ns);
		r->kpa[r->n] = kpa;
		r->n++;
	}
}

static int check_params(const struct qst_ppt_params *p)
{
	if (p->trials < 1 || p->trials > MAX_TRIALS) {
		qst_err("PPT: trials %d out of range 1..%d", p->trials,
			MAX_TRIALS);
		return QST_ERR_ARG;
	}
	if (!isfinite(p->rate_kpa_s) || p->rate_kpa_s <= 0 ||
	    p->rate_kpa_s > MAX_RATE_KPA_S) {
		qst_err("PPT: rate %g kPa/s out of range (0, %g]", p->rate_kpa_s,
			MAX_RATE_KPA_S);
		return QST_ERR_ARG;
	}
	if (!isfinite(p->isi_s) || p->isi_s < 0 || p->isi_s > MAX_ISI_S) {
		qst_err("PPT: isi %g s out of range 0..%g", p->isi_s, MAX_ISI_S);
		return QST_ERR_ARG;
	}
	return QST_OK;
}

/* Wait for the press in short slices, watching the ceiling in between. */
static int run_ramp(const struct qst_rig_ops *ops, void *rig, int64_t onset,
		    struct ramp *r, struct qst_press *press, double *last_kpa)
{
	int64_t deadline = onset + qst_s_to_ns(QST_PPT_MAX_RAMP_S);
	for (;;) {
		int64_t now = ops->now(rig);
		int64_t until = now + SLICE_NS < deadline ? now + SLICE_NS :
							    deadline;
		int ret = ops->await_press(rig, until, press);
		if (ret < 0)
			return ret;
		if (ret == 1)
			return ENDED_PRESS;
		now = ops->now(rig);
		double kpa = ops->pressure_at(rig, now);
		*last_kpa = kpa;
		add_sample(r, now, kpa);
		if (isfinite(kpa) && kpa >= QST_PPT_CEILING_KPA)
			return ENDED_CEILING;
		if (now >= deadline)
			return ENDED_TIMEOUT;
	}
}

static void take_press(const struct qst_rig_ops *ops, void *rig,
		       const struct qst_press *press, struct ramp *r,
		       struct qst_trial_record *t)
{
	t->t_response_ns = press->t_ns;
	t->value_measured = ops->pressure_at(rig, press->t_ns);
	t->latency_s = qst_ns_to_s(press->t_ns - t->t_onset_ns);
	t->device_rt_s = press->device_rt_s;
	t->key = press->key;
	add_sample(r, press->t_ns, t->value_measured);
	if (!isfinite(t->value_measured))
		t->flags |= QST_TRIAL_NO_READBACK;
	if (t->latency_s < SUSPECT_LATENCY_S)
		t->flags |= QST_TRIAL_RESPONSE_SUSPECT;
}

static void take_cutoff(const struct qst_rig_ops *ops, void *rig,
			enum ramp_end end, double last_kpa,
			struct qst_trial_record *t)
{
	t->value_measured = last_kpa;
	t->flags |= QST_TRIAL_CUTOFF_REACHED;
	if (!isfinite(last_kpa))
		t->flags |= QST_TRIAL_NO_READBACK;
	char msg[96];
	if (end == ENDED_CEILING)
		snprintf(msg, sizeof(msg), "pressure reached the %.0f kPa "
			 "ceiling without a response", QST_PPT_CEILING_KPA);
	else
		snprintf(msg, sizeof(msg), "no response within %.0f s of "
			 "ramping", QST_PPT_MAX_RAMP_S);
	ops->event(rig, QST_EVC_CUTOFF_REACHED, last_kpa, NAN, msg);
}

/* Let go and wait for the gauge to show it; QST_ERR_DEVICE if it does not. */
static int release(const struct qst_rig_ops *ops, void *rig)
{
	int ret = ops->pressure_release(rig);
	if (ret < 0)
		return ret;
	ret = ops->await_pressure_below(rig, CONTACT_KPA,
					ops->now(rig) + RELEASE_TIMEOUT_NS);
	if (ret == 0) {
		ops->event(rig, QST_EVC_DEVICE_FAULT, CONTACT_KPA, NAN,
			   "algometer still loaded 10 s after release");
		return QST_ERR_DEVICE;
	}
	return ret < 0 ? ret : QST_OK;
}

static void cue_trial(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_ppt_params *p, int rep)
{
	char text[192];
	snprintf(text, sizeof(text),
		 "PPT %d/%d: place the algometer probe%s%s; ramp at %.0f kPa/s "
		 "until the subject presses the button",
		 rep, p->trials, p->site_text[0] ? " at " : "", p->site_text,
		 p->rate_kpa_s);
	ops->cue(rig, text);
}

static int ppt_trial(const struct qst_rig_ops *ops, void *rig,
		     const struct qst_ppt_params *p, int rep, struct ramp *r)
{
	struct qst_trial_record t;
	qst_manual_trial_init(&t, QST_PPT, rep, +1);
	t.baseline_c = 0.0;
	t.cutoff_c = QST_PPT_CEILING_KPA;
	t.trial_id = ops->trial_begin(rig);
	t.t_start_ns = ops->now(rig);
	int ret = qst_method_idle(ops, rig, t.t_start_ns + qst_s_to_ns(p->isi_s));
	if (ret < 0)
		return ret;

	struct qst_task task = { QST_TASK_PRESSURE_PAIN, +1, 0.0 };
	ops->task(rig, &task);
	if ((ret = ops->reset_response_timer(rig)) < 0)
		return ret;
	cue_trial(ops, rig, p, rep);
	t.t_onset_ns = ops->now(rig);
	if ((ret = ops->pressure_apply(rig, p->rate_kpa_s)) < 0)
		return ret;
	r->n = 0;
	struct qst_press press;
	double last_kpa = NAN;
	int end = run_ramp(ops, rig, t.t_onset_ns, r, &press, &last_kpa);
	task.kind = QST_TASK_NONE;
	ops->task(rig, &task);
	if (end < 0) {
		/* A fault or a stop mid-ramp: the operator lets go, and the
		 * trial is kept as aborted, never as a threshold. */
		ops->pressure_release(rig);
		return qst_method_abort_trial(ops, rig, &t, end);
	}
	if (end == ENDED_PRESS)
		take_press(ops, rig, &press, r, &t);
	else
		take_cutoff(ops, rig, (enum ramp_end)end, last_kpa, &t);
	t.rate_c_s = qst_ppt_rate_kpa_s(r->t_s, r->kpa, r->n);

	int released = release(ops, rig);
	t.t_stop_ns = ops->now(rig);
	qst_info("PPT trial %d: %.0f kPa%s, ramp %.1f kPa/s (latency %.3f s)",
		 rep, t.value_measured,
		 (t.flags & QST_TRIAL_CUTOFF_REACHED) ? " cut-off" : "",
		 t.rate_c_s, t.latency_s);
	ret = ops->trial_end(rig, &t);
	return ret < 0 ? ret : released;
}

int qst_method_ppt(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_ppt_params *p)
{
	if (!ops || !p)
		return QST_ERR_ARG;
	int ret = check_params(p);
	if (ret < 0)
		return ret;
	struct ramp *ramp = malloc(sizeof(*ramp)); /* ~50 kB: off the stack */
	if (!ramp)
		return QST_ERR_NOMEM;
	int resumes = 0;
	for (int rep = 1; rep <= p->trials && ret >= 0; rep++) {
		ret = ppt_trial(ops, rig, p, rep, ramp);
		if (qst_method_should_repeat(&ret, &resumes))
			rep--;
	}
	free(ramp);
	return ret < 0 ? ret : QST_OK;
}
