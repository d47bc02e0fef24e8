/*
 * Heat pulse trains with per-pulse ratings: temporal summation of pain
 * (qst-domain.md §6.1: 10 identical pulses, 0.5 s at peak, >= 0.33 Hz,
 * NRS after the first and the last, or every pulse). The rate of the
 * train is the stimulus, so every pulse's command goes out at its
 * scheduled time from the station's pacer (§7.6), and how late it went
 * out is recorded with it rather than trusted.
 */
#define LOG_PREFIX "train: "

#include <math.h>
#include <stdio.h>

#include "qst_methods.h"

/* A command this late is worth a warning (§7.6: jitter << 100 ms). */
#define LATE_PULSE_NS (20 * QST_NS_PER_MS)
/* A rating is wanted this long before the next pulse at the latest. */
#define RATING_GUARD_NS (200 * QST_NS_PER_MS)
/* Readback the plate's peak is looked for in: every 10 ms (the 100 Hz
 * stream, devices.md §1.4), to this long after the pulse (plate lag). */
#define PEAK_STEP_NS (10 * QST_NS_PER_MS)
#define PEAK_AFTER_NS (200 * QST_NS_PER_MS)

struct pulse {
	int k;               /* 1-based */
	int64_t due_ns;
	int64_t cmd_ns;      /* when the command had been written */
	int64_t end_ns;      /* commanded profile over */
};

static int64_t pulse_length_ns(const struct qst_pulse_train_params *p)
{
	double swing = fabs(p->peak_c - p->baseline_c);
	return qst_s_to_ns(swing / p->rise_c_s + p->hold_s + swing / p->fall_c_s);
}

static bool train_ok(const struct qst_pulse_train_params *p)
{
	if (p->pulses < 1 || p->pulses > QST_TRAIN_MAX_PULSES ||
	    !(p->frequency_hz > 0) || !(p->rise_c_s > 0) || !(p->fall_c_s > 0) ||
	    !(p->hold_s >= 0) || !isfinite(p->peak_c) ||
	    !isfinite(p->baseline_c)) {
		qst_err("pulse train: implausible parameters");
		return false;
	}
	if (pulse_length_ns(p) > qst_s_to_ns(1.0 / p->frequency_hz)) {
		qst_err("pulse train: a pulse outlasts its %.2f s period",
			1.0 / p->frequency_hz);
		return false;
	}
	return true;
}

/* Until due; a press meanwhile starts nothing and is only recorded. */
static int pace_to(const struct qst_rig_ops *ops, void *rig, int64_t due_ns)
{
	struct qst_press press;
	int ret;
	for (;;) {
		ret = ops->pace ? ops->pace(rig, due_ns, &press) :
				  ops->await_press(rig, due_ns, &press);
		if (ret != 1)
			return ret < 0 ? ret : QST_OK;
		ops->event(rig, QST_EVC_LOG, press.key, NAN,
			   "key press during the pulse train (ignored)");
	}
}

/* The hottest readback from the command to shortly after the pulse. */
static double measured_peak(const struct qst_rig_ops *ops, void *rig,
			    const struct pulse *pl)
{
	double peak = NAN;
	int64_t until = pl->end_ns + PEAK_AFTER_NS;
	int64_t now = ops->now(rig);
	until = until < now ? until : now;
	for (int64_t t = pl->cmd_ns; t <= until; t += PEAK_STEP_NS) {
		double c = ops->measured_at(rig, t);
		if (!isnan(c) && (isnan(peak) || c > peak))
			peak = c;
	}
	return peak;
}

static void record_peak(const struct qst_rig_ops *ops, void *rig,
			const struct pulse *pl)
{
	if (pl->k < 1)
		return;
	ops->event(rig, QST_EVC_PULSE_PEAK, pl->k, measured_peak(ops, rig, pl),
		   "pulse peak (value2 = hottest readback, degC)");
}

/*
 * The command's time is when the pacer handed over and the supervised
 * ramp began (its checks take microseconds, the bytes follow at once);
 * the event itself is stamped once the command is out and the station
 * has seen it, which on the simulated station includes stepping the
 * simulators (~0.1 ms).
 */
static int send_pulse(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_pulse_train_params *p, struct pulse *pl)
{
	pl->cmd_ns = ops->now(rig);
	int ret = ops->ramp(rig, p->peak_c, p->rise_c_s, p->hold_s, p->fall_c_s);
	if (ret < 0)
		return ret;
	pl->end_ns = pl->cmd_ns + pulse_length_ns(p);
	int64_t late = pl->cmd_ns - pl->due_ns;
	char msg[160];
	snprintf(msg, sizeof(msg), "pulse %d/%d to %.1f degC: scheduled %.9f s, "
		 "command %.9f s (value2 = command - scheduled, s)", pl->k,
		 p->pulses, p->peak_c, qst_ns_to_s(pl->due_ns),
		 qst_ns_to_s(pl->cmd_ns));
	ops->event(rig, QST_EVC_PULSE, pl->k, qst_ns_to_s(late), msg);
	if (late > LATE_PULSE_NS)
		qst_warn("pulse %d went out %.1f ms late", pl->k,
			 qst_ns_to_s(late) * 1e3);
	return QST_OK;
}

static int rate_pulse(const struct qst_rig_ops *ops, void *rig,
		      const struct qst_pulse_train_params *p,
		      const struct pulse *pl, int64_t deadline_ns)
{
	char text[192];
	snprintf(text, sizeof(text), "pulse %d/%d%s%s: pain rating 0-100?",
		 pl->k, p->pulses, p->site_text[0] ? " at " : "", p->site_text);
	/* Stimulus "none": the rating is of what the thermode did, as for a
	 * script's own qst.ask (the virtual participant answers with the
	 * most pain it felt since its last answer: this pulse); no value,
	 * which would be counted as a force applied by hand. */
	struct qst_question q = {
		.test = -1, .kind = QST_ANSWER_RATING, .text = text,
		.stimulus = QST_STIM_NONE, .stimulus_value = NAN,
	};
	struct qst_answer a;
	int ret = ops->ask_by ? ops->ask_by(rig, &q, &a, deadline_ns) :
				ops->ask(rig, &q, &a);
	if (ret < 0)
		return ret;
	if (a.not_done)
		return QST_METHOD_NOT_DONE;
	ops->event(rig, QST_EVC_RATING, pl->k, a.value, "pulse rating (value2, NRS 0-100)");
	qst_info("pulse %d rated %g", pl->k, a.value);
	return QST_OK;
}

int qst_method_pulse_train(const struct qst_rig_ops *ops, void *rig,
			   const struct qst_pulse_train_params *p)
{
	if (!train_ok(p))
		return QST_ERR_ARG;
	int ret = ops->set_baseline(rig, p->baseline_c);
	if (ret < 0)
		return ret;
	int64_t period = qst_s_to_ns(1.0 / p->frequency_hz);
	char msg[160];
	snprintf(msg, sizeof(msg), "%d pulses %.1f -> %.1f degC at %g Hz, hold "
		 "%g s, rise %g, fall %g degC/s", p->pulses, p->baseline_c,
		 p->peak_c, p->frequency_hz, p->hold_s, p->rise_c_s, p->fall_c_s);
	ops->event(rig, QST_EVC_TRAIN_START, p->pulses, p->frequency_hz, msg);
	/* One period of notice before the first pulse. */
	int64_t t0 = ops->now(rig) + period;
	struct pulse prev = { 0 };
	for (int i = 0; i < p->pulses; i++) {
		struct pulse pl = { .k = i + 1, .due_ns = t0 + i * period };
		ret = pace_to(ops, rig, pl.due_ns);
		/* The command first: nothing between the pacer and it. */
		if (ret == QST_OK)
			ret = send_pulse(ops, rig, p, &pl);
		if (ret == QST_OK)
			record_peak(ops, rig, &prev);
		if (ret == QST_OK && p->rate[i])
			ret = rate_pulse(ops, rig, p, &pl,
					 pl.due_ns + period - RATING_GUARD_NS);
		if (ret != QST_OK)
			return ret;
		prev = pl;
	}
	ret = pace_to(ops, rig, prev.end_ns + PEAK_AFTER_NS);
	if (ret == QST_OK)
		record_peak(ops, rig, &prev);
	return ret;
}
