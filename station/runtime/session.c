/*
 * One session: script host, method rig, supervisor and recorder wired
 * together (qst_session.h).
 */
#define LOG_PREFIX "session: "

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qst_methods.h"
#include "qst_console.h"
#include "qst_session.h"

/* Readback kept for "temperature at the press" lookups: 20 s at 100 Hz. */
#define HISTORY 2048

/* One thermal stimulus as commanded: ramp, hold, return to neutral. */
struct setpoint {
	int64_t t0_ns;
	double from_c, target_c, rate_c_s, hold_s, return_c_s, neutral_c;
	/* A waveform instead of the ramp and hold (n_wave > 0): its
	 * segments from from_c to target_c (the last end), then the return;
	 * rate_c_s is then the return rate, hold_s the segments' length. */
	int n_wave;
	struct qst_wave_segment wave[QST_WAVE_MAX_SEGMENTS];
};

struct readback {
	int64_t t_ns;
	double c;
};

/* Recent readings of one stream, for "value at the press" lookups. */
struct history {
	struct readback r[HISTORY];
	size_t n, next;
};

static void history_add(struct history *h, int64_t t_ns, double v)
{
	h->r[h->next] = (struct readback){ t_ns, v };
	h->next = (h->next + 1) % HISTORY;
	if (h->n < HISTORY)
		h->n++;
}

/* Latest reading at or before t, NaN if none. */
static double history_at(const struct history *h, int64_t t_ns)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct readback *r = &h->r[(h->next + HISTORY - 1 - i) % HISTORY];
		if (r->t_ns <= t_ns)
			return r->c;
	}
	return NAN;
}

/* What pump() waits for besides a key press and its deadline. */
enum wait_for {
	WAIT_NOTHING,
	WAIT_TEMPERATURE_NEAR,  /* measured within tol of target */
	WAIT_PRESSURE_BELOW,    /* algometer below target (released) */
	WAIT_KEY_RELEASED,      /* no response key held down */
};

struct session {
	const struct qst_session_config *cfg; /* = &own: limits as tightened */
	struct qst_session_config own;        /* by qst.safety{} */
	struct qst_session_summary *sum;
	struct qst_station *st;
	struct qst_recorder *rec;
	struct qst_rng rng;
	bool declared;
	int next_trial_id;
	int current_trial;
	int current_test;
	int test_trials_done;      /* of the running test, for "n of N" */
	int test_trials_total;
	int64_t last_status_ns;    /* wall clock of the last status redraw */
	double neutral_c;
	struct setpoint sp, prev_sp;
	int64_t profile_start_ns;  /* last stimulus command */
	int64_t profile_end_ns;    /* commanded stimulus over (100 Hz stream stops) */
	struct history temp_hist;
	struct history pressure_hist;
	double last_kpa;
	int64_t pressure_from_ns;  /* apply started: live rate is measured from here */
	int64_t last_rate_report_ns;
	int64_t last_readback_ns;
	double last_measured_c;
	struct qst_dose_guard dose;
	char step[96];             /* the script's current section */
	int held_key;              /* response key held down, -1 none */
	int64_t held_since_ns;
	bool resumable;            /* the running method repeats a trial */
	bool paused;               /* in a pause: a second stop ends it */
	double resume_neutral_c;   /* the baseline before a fault's safe neutral */
	struct qst_tracking track;                /* §8.2 interlock 3 */
	struct qst_pacer pacer;    /* trains: commands at their times */
	struct qst_realtime rt;    /* what real-time mode got, if asked */
	struct qst_link_noise noise[QST_ROLE_COUNT];
	int fault;                 /* a latched device fault (qst_err), 0 none */
	char err[512];
	char status[160];
};

/* ------------------------------------------------------------- helpers */

static int fail(struct session *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct session *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return code;
}

/* An event at t_ns: a device's, stamped when its bytes arrived. */
static void record_event_at(struct session *s, int64_t t_ns, int code,
			    int source, double value, double value2,
			    const char *msg)
{
	if (!s->rec)
		return;
	struct qst_event_record e = {
		.t_ns = t_ns, .code = code, .source = source,
		.trial = s->current_trial, .value = value, .value2 = value2,
		.message = msg,
	};
	int ret = qst_recorder_event(s->rec, &e);
	if (ret < 0)
		qst_err("cannot record event %s: %s", qst_event_code_name(code),
			qst_strerror(ret));
}

static void record_event(struct session *s, int code, int source,
			 double value, double value2, const char *msg)
{
	record_event_at(s, qst_station_now(s->st), code, source, value, value2,
			msg);
}

/* " in step 'Thermal pain thresholds', HPT trial 2" — where a refusal or
 * an abort happened, so the operator (and qst check) can find it. */
static void describe_step(const struct session *s, char *buf, size_t len)
{
	int n = 0;
	buf[0] = '\0';
	if (s->step[0])
		n = snprintf(buf, len, " in step '%s'", s->step);
	if (n >= 0 && (size_t)n < len && s->current_test >= 0 &&
	    s->current_trial >= 0)
		snprintf(buf + n, len - (size_t)n, "%s%s trial %d",
			 s->step[0] ? ", " : " in ", qst_param_name(s->current_test),
			 s->test_trials_done + 1);
}

static void console_line(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void format_status(struct session *s, double measured_c, char *buf,
			  size_t len);

static void console_line(struct session *s, const char *fmt, ...)
{
	FILE *f = s->cfg->console;
	if (!f)
		return;
	double t = qst_ns_to_s(qst_station_now(s->st));
	if (s->cfg->console_is_tty)
		fputs("\r\033[K", f);
	fprintf(f, "[%7.1f s] ", t);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (s->cfg->console_is_tty) {
		format_status(s, s->last_measured_c, s->status, sizeof(s->status));
		fprintf(f, "%s", s->status);
	}
	fflush(f);
}

static void format_clock(char *buf, size_t len, double seconds)
{
	long s = seconds < 0 ? 0 : (long)seconds;
	snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* "0:41 elapsed  ~3:29 left" */
static void format_times(struct session *s, char *buf, size_t len)
{
	double t = qst_ns_to_s(qst_station_now(s->st));
	char elapsed[32], rem[32];
	format_clock(elapsed, sizeof(elapsed), t);
	if (s->cfg->expected_duration_ns <= 0) {
		snprintf(buf, len, "%s elapsed", elapsed);
		return;
	}
	format_clock(rem, sizeof(rem), qst_ns_to_s(s->cfg->expected_duration_ns) - t);
	snprintf(buf, len, "%s elapsed  ~%s left", elapsed, rem);
}

/* "CDT 2/3  thermode 30.4 °C  0:41 elapsed  ~3:29 left" */
static void format_status(struct session *s, double measured_c, char *buf,
			  size_t len)
{
	char test[24] = "-", times[80];
	if (s->current_test >= 0)
		snprintf(test, sizeof(test), "%s %d/%d", qst_param_name(s->current_test),
			 s->test_trials_done + 1 > s->test_trials_total ?
				 s->test_trials_total : s->test_trials_done + 1,
			 s->test_trials_total);
	format_times(s, times, sizeof(times));
	snprintf(buf, len, "%-9s thermode %5.1f °C  %s", test, measured_c, times);
}

/* The live status line (terminals only), redrawn at most 10 times a second. */
static void console_status(struct session *s, double measured_c)
{
	if (!s->cfg->console || !s->cfg->console_is_tty)
		return;
	int64_t wall = qst_monotonic_ns();
	if (wall - s->last_status_ns < 100 * QST_NS_PER_MS)
		return;
	s->last_status_ns = wall;
	format_status(s, measured_c, s->status, sizeof(s->status));
	fprintf(s->cfg->console, "\r\033[K%s", s->status);
	fflush(s->cfg->console);
}

/* ------------------------------------------------------ commanded model */

/* When the return to neutral begins. */
static int64_t return_starts_ns(const struct setpoint *sp)
{
	double rise = sp->n_wave ? 0.0 : fabs(sp->target_c - sp->from_c) / sp->rate_c_s;
	return sp->t0_ns + qst_s_to_ns(rise + sp->hold_s);
}

static double wave_at(const struct setpoint *sp, double dt)
{
	double from = sp->from_c;
	for (int i = 0; i < sp->n_wave; i++) {
		const struct qst_wave_segment *g = &sp->wave[i];
		if (dt < g->duration_s)
			return from + (g->to_c - from) * dt / g->duration_s;
		dt -= g->duration_s;
		from = g->to_c;
	}
	return from;
}

static double setpoint_at(const struct setpoint *sp, int64_t t_ns)
{
	double dt = qst_ns_to_s(t_ns - sp->t0_ns);
	if (sp->n_wave > 0 && dt < sp->hold_s)
		return wave_at(sp, dt);
	if (sp->n_wave > 0) {
		double back = fabs(sp->neutral_c - sp->target_c) / sp->return_c_s;
		dt -= sp->hold_s;
		return dt >= back ? sp->neutral_c :
			sp->target_c + copysign(sp->return_c_s * dt,
						sp->neutral_c - sp->target_c);
	}
	double rise = fabs(sp->target_c - sp->from_c) / sp->rate_c_s;
	if (dt <= rise)
		return sp->from_c + copysign(sp->rate_c_s * dt,
					     sp->target_c - sp->from_c);
	dt -= rise + sp->hold_s;
	if (dt <= 0)
		return sp->target_c;
	double back = fabs(sp->neutral_c - sp->target_c) / sp->return_c_s;
	if (dt >= back)
		return sp->neutral_c;
	return sp->target_c + copysign(sp->return_c_s * dt,
				       sp->neutral_c - sp->target_c);
}

static double commanded_at(void *rig, int64_t t_ns)
{
	struct session *s = rig;
	if (s->sp.rate_c_s <= 0)
		return s->neutral_c;
	const struct setpoint *sp = t_ns >= s->sp.t0_ns || s->prev_sp.rate_c_s <= 0 ?
					    &s->sp : &s->prev_sp;
	return setpoint_at(sp, t_ns);
}

static double measured_at(void *rig, int64_t t_ns)
{
	return history_at(&((struct session *)rig)->temp_hist, t_ns);
}

/* ------------------------------------------------------- event handling */

static int pause_session(struct session *s, int code, const char *why);
static int recording_failed(struct session *s, int err, const char *what,
			    bool mid_trial);

/* The thermode's abort command goes out first, then the safe neutral
 * (qst-domain.md §8.2 interlocks 3-5). */
static void stop_thermode(struct session *s)
{
	double safe = s->cfg->limits.safe_neutral_c;
	if (!qst_station_has(s->st, QST_ROLE_THERMAL))
		return;
	qst_station_thermal_abort(s->st);
	s->sum->stop_abort_mono_ns = qst_monotonic_ns();
	qst_station_thermal_neutral(s->st, safe);
	int64_t now = qst_station_now(s->st);
	s->profile_end_ns = now < s->profile_end_ns ? now : s->profile_end_ns;
	if (!s->paused)
		s->resume_neutral_c = s->neutral_c;
	s->neutral_c = safe;
}

static void record_thermode_stop(struct session *s, const char *msg)
{
	record_event(s, QST_EVC_STIM_ABORT, QST_EVS_SUPERVISOR, NAN, NAN, msg);
	record_event(s, QST_EVC_STIM_NEUTRAL, QST_EVS_SUPERVISOR,
		     s->cfg->limits.safe_neutral_c, NAN, NULL);
}

/*
 * Every watchdog and link fault ends here: the thermode is stopped, the
 * fault recorded and shown to the operator word for word, and the session
 * pauses (resumed, or ended with the fault latched, so a script cannot
 * stimulate again by catching it).
 */
static int device_fault(struct session *s, int code, int source, double value,
			double value2, const char *msg)
{
	bool pressing = s->pressure_from_ns > 0;
	stop_thermode(s);
	if (pressing)
		qst_station_hand_release(s->st);
	record_event(s, QST_EVC_DEVICE_FAULT, source, value, value2, msg);
	record_thermode_stop(s, msg);
	console_line(s, "DEVICE FAULT: %s. Stimulation aborted, thermode "
		     "returning to %.1f °C.%s", msg, s->cfg->limits.safe_neutral_c,
		     pressing ? " Release the algometer now." : "");
	return pause_session(s, code, msg);
}

/* A command that could not be sent is the device's fault, not the
 * script's: the link is gone or hung. */
static int send_fault(struct session *s, int source, const char *device,
		      const char *what, int err)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "%s: %s not sent (%s)", device, what,
		 qst_strerror(err));
	return device_fault(s, QST_ERR_DEVICE, source, NAN, NAN, msg);
}

/* Readback must follow the command while a stimulus runs (§8.2
 * interlock 3); at rest the 1 Hz stream and the readback limits do. */
static int check_tracking(struct session *s, int64_t t_ns, double measured)
{
	if (s->sp.rate_c_s <= 0 || t_ns < s->profile_start_ns ||
	    t_ns > s->profile_end_ns) {
		qst_tracking_reset(&s->track);
		return QST_OK;
	}
	char why[160];
	double commanded = commanded_at(s, t_ns);
	if (qst_supervisor_check_tracking(&s->cfg->limits, &s->track, t_ns,
					  measured, commanded, why,
					  sizeof(why)) < 0)
		return device_fault(s, QST_ERR_DEVICE, QST_EVS_SUPERVISOR,
				    measured, commanded, why);
	return QST_OK;
}

/* The event source that names a device role in /events. */
static int role_source(int role)
{
	switch (role) {
	case QST_ROLE_THERMAL: return QST_EVS_THERMAL;
	case QST_ROLE_PRESSURE: return QST_EVS_PRESSURE;
	case QST_ROLE_RESPONSE: return QST_EVS_RESPONSE;
	case QST_ROLE_VIBRATION: return QST_EVS_VIBRATION;
	case QST_ROLE_RATING: return QST_EVS_RATING;
	case QST_ROLE_SYNC: return QST_EVS_SYNC;
	default: return QST_EVS_STATION;
	}
}

/* Corrupt bytes on a link: resynchronised and counted (the first report
 * of a stretch is recorded); a stretch that goes on is a fault. */
static int on_link_noise(struct session *s, const struct qst_event *ev)
{
	int r = ev->device >= 0 && ev->device < QST_ROLE_COUNT ? ev->device : 0;
	const char *device = qst_role_noun(r);
	char why[160];
	int ret = qst_supervisor_check_noise(&s->cfg->limits, &s->noise[r],
					     device, ev->t_ns,
					     ev->u.noise_bytes, why, sizeof(why));
	int source = role_source(r);
	if (ret < 0)
		return device_fault(s, QST_ERR_DEVICE, source,
				    (double)s->noise[r].bytes, NAN, why);
	if (ret == 1) {
		snprintf(why, sizeof(why), "%s link: corrupt data discarded, "
			 "resynchronising", device);
		qst_warn("%s", why);
		record_event(s, QST_EVC_LOG, source, (double)ev->u.noise_bytes,
			     NAN, why);
	}
	return QST_OK;
}

static int on_temperature(struct session *s, const struct qst_event *ev)
{
	double sum = 0;
	for (int z = 0; z < QST_THERMODE_ZONES; z++)
		sum += ev->u.temp.zone_c[z];
	double measured = sum / QST_THERMODE_ZONES;
	history_add(&s->temp_hist, ev->t_ns, measured);
	s->last_readback_ns = ev->t_ns;
	s->last_measured_c = measured;
	if (s->rec) {
		struct qst_temp_sample smp = {
			.t_ns = ev->t_ns, .commanded_c = commanded_at(s, ev->t_ns),
			.measured_c = measured, .neutral_c = ev->u.temp.neutral_c,
		};
		memcpy(smp.zone_c, ev->u.temp.zone_c, sizeof(smp.zone_c));
		int ret = qst_recorder_temperature(s->rec, &smp);
		if (ret < 0)
			return recording_failed(s, ret, "temperature samples", true);
	}
	char why[200];
	if (qst_supervisor_check_readback(&s->cfg->limits, measured, why,
					  sizeof(why)) < 0)
		return device_fault(s, QST_ERR_LIMIT, QST_EVS_SUPERVISOR, measured,
				    NAN, why);
	int ret = check_tracking(s, ev->t_ns, measured);
	if (ret < 0)
		return ret;
	qst_dose_note(&s->dose, ev->t_ns, measured);
	double dose = qst_dose_exposed_s(&s->dose, ev->t_ns - s->dose.window_ns,
					 ev->t_ns);
	s->sum->max_dose_s = fmax(s->sum->max_dose_s, dose);
	if (qst_dose_check_now(&s->dose, ev->t_ns, why, sizeof(why)) < 0)
		return device_fault(s, QST_ERR_LIMIT, QST_EVS_SUPERVISOR, measured,
				    NAN, why);
	console_status(s, measured);
	return QST_OK;
}

/* Live ramp rate over the last second, for the operator's feedback. */
static double live_rate_kpa_s(const struct session *s, int64_t now)
{
	double t[HISTORY], v[HISTORY];
	size_t n = 0;
	const struct history *h = &s->pressure_hist;
	for (size_t i = 0; i < h->n && n < HISTORY; i++) {
		const struct readback *r = &h->r[(h->next + HISTORY - 1 - i) % HISTORY];
		if (r->t_ns < now - QST_NS_PER_S || r->t_ns < s->pressure_from_ns)
			break;
		t[n] = qst_ns_to_s(r->t_ns);
		v[n] = r->c;
		n++;
	}
	return n >= 3 ? qst_ppt_rate_kpa_s(t, v, n) : NAN;
}

/* Slider samples are stored as they came; markers are events. */
static int on_rating(struct session *s, const struct qst_event *ev)
{
	const struct qst_rating_reading *rd = &ev->u.rating;
	if (rd->marker) {
		char token[8];
		snprintf(token, sizeof(token), "%s",
			 rd->marker == 'S' ? "999" : (char[]){ rd->marker, 0 });
		record_event_at(s, ev->t_ns, QST_EVC_RATING_MARKER,
				QST_EVS_RATING, rd->raw, NAN, token);
		return QST_OK;
	}
	if (!s->rec)
		return QST_OK;
	struct qst_rating_sample smp = { ev->t_ns, rd->value, rd->raw };
	int ret = qst_recorder_rating(s->rec, &smp);
	return ret < 0 ? recording_failed(s, ret, "rating samples", true) : QST_OK;
}

static int on_pressure(struct session *s, const struct qst_event *ev)
{
	double kpa = ev->u.pressure.kpa;
	history_add(&s->pressure_hist, ev->t_ns, kpa);
	s->last_kpa = kpa;
	if (kpa > s->sum->max_kpa)
		s->sum->max_kpa = kpa;
	if (s->rec) {
		struct qst_pressure_sample smp = { ev->t_ns, ev->u.pressure.force_n, kpa };
		int ret = qst_recorder_pressure(s->rec, &smp);
		if (ret < 0)
			return recording_failed(s, ret, "pressure samples", true);
	}
	char why[160];
	if (qst_supervisor_check_pressure(&s->cfg->limits, kpa, why, sizeof(why)) < 0) {
		qst_station_hand_release(s->st);
		record_event(s, QST_EVC_DEVICE_FAULT, QST_EVS_SUPERVISOR, kpa, NAN, why);
		return fail(s, QST_ERR_LIMIT, "release the algometer now%s%s%s: %s",
			    s->step[0] ? " (step '" : "", s->step, s->step[0] ? "')" : "",
			    why);
	}
	/* Rate feedback once a second while the operator presses (§2.9: ≈50 kPa/s). */
	if (s->pressure_from_ns > 0 &&
	    ev->t_ns - s->last_rate_report_ns >= QST_NS_PER_S) {
		s->last_rate_report_ns = ev->t_ns;
		double rate = live_rate_kpa_s(s, ev->t_ns);
		if (!isnan(rate))
			console_line(s, "  pressure %6.1f kPa, rising %5.1f kPa/s", kpa, rate);
	}
	return QST_OK;
}

/* Within this of neutral on the way back, the plate may be at rest. */
#define RESTING_TOL_C 0.3

/*
 * True once the plate reads back at neutral during the return: the device
 * may then have ended its stimulus (and its 100 Hz stream) a little before
 * the model does, because its profile started from the true plate and the
 * model's from the readback — at a slow return rate (0.1 °C/s) 0.05 °C
 * is half a second.
 */
static bool back_at_rest(const struct session *s, int64_t now)
{
	const struct setpoint *sp = &s->sp;
	return sp->rate_c_s > 0 && now >= return_starts_ns(sp) &&
	       fabs(s->last_measured_c - sp->neutral_c) <= RESTING_TOL_C;
}

/* The readback deadline: tight while a stimulus runs (100 Hz stream),
 * loose at rest, where the thermode reports once a second. */
static int64_t readback_deadline(const struct session *s, int64_t now)
{
	const struct qst_thermal_limits *lim = &s->cfg->limits;
	bool active = now <= s->profile_end_ns + 100 * QST_NS_PER_MS &&
		      !back_at_rest(s, now);
	int64_t since = s->last_readback_ns > s->profile_start_ns ?
				s->last_readback_ns : s->profile_start_ns;
	return since + (active ? lim->readback_timeout_ns :
				 lim->readback_idle_timeout_ns);
}


static int watchdog_fault(struct session *s, int64_t now)
{
	double silent_ms = qst_ns_to_s(now - s->last_readback_ns) * 1e3;
	char msg[128];
	snprintf(msg, sizeof(msg), "no thermode readback for %.0f ms", silent_ms);
	return device_fault(s, QST_ERR_DEVICE, QST_EVS_SUPERVISOR, silent_ms / 1e3,
			    NAN, msg);
}

/* ------------------------------------------------------ emergency stop */

static bool stop_requested(const struct session *s)
{
	return s->cfg->stop_request && *s->cfg->stop_request;
}

/* Stimulators stop first, then everything else: the abort command is the
 * first thing on the wire (qst-domain.md §8.2 interlock 4). */
static int emergency_stop(struct session *s, int source, const char *why)
{
	stop_thermode(s);
	qst_station_hand_release(s->st);
	record_event(s, QST_EVC_EMERGENCY_STOP, source, NAN, NAN, why);
	record_thermode_stop(s, why);
	console_line(s, "EMERGENCY STOP (%s): the thermode was stopped and "
		     "returns to baseline", why);
	return pause_session(s, QST_ERR_ABORTED, why);
}

/* The response device's stop: the stop key, or any key held down long. */
static int check_key_stop(struct session *s, const struct qst_event *ev)
{
	const struct qst_session_config *c = s->cfg;
	char why[96];
	if (ev && ev->u.button.pressed && c->estop_key > 0 &&
	    ev->u.button.key == c->estop_key) {
		snprintf(why, sizeof(why), "response key %d (the stop key)",
			 c->estop_key);
		return emergency_stop(s, QST_EVS_PARTICIPANT, why);
	}
	if (ev && ev->u.button.pressed) {
		s->held_key = ev->u.button.key;
		s->held_since_ns = ev->t_ns;
	} else if (ev && ev->u.button.key == s->held_key) {
		s->held_key = -1;
	}
	int64_t now = qst_station_now(s->st);
	if (s->held_key >= 0 && c->estop_hold_ns > 0 &&
	    now - s->held_since_ns >= c->estop_hold_ns) {
		snprintf(why, sizeof(why), "response key %d held for %.1f s",
			 s->held_key, qst_ns_to_s(now - s->held_since_ns));
		s->held_key = -1;
		return emergency_stop(s, QST_EVS_PARTICIPANT, why);
	}
	return QST_OK;
}

/* When the pump must look again, whatever the devices say. */
static int64_t stop_check_due(const struct session *s, int64_t now)
{
	int64_t due = INT64_MAX;
	if (s->held_key >= 0 && s->cfg->estop_hold_ns > 0)
		due = s->held_since_ns + s->cfg->estop_hold_ns;
	if (s->cfg->stop_request && s->cfg->station.clock_mode == QST_CLOCK_REAL &&
	    now + QST_ESTOP_POLL_NS < due)
		due = now + QST_ESTOP_POLL_NS;
	return due;
}

static int pump(struct session *s, int64_t deadline, struct qst_press *press,
		enum wait_for what, double target, double tol);

static bool operator_resumes(struct session *s, const char *why)
{
	if (!s->cfg->operator_console || !s->resumable)
		return false;
	char text[320];
	snprintf(text, sizeof(text), "SESSION PAUSED: %s. Resume and repeat the "
		 "interrupted trial? (y = resume, n = end the session)", why);
	struct qst_question q = { .test = s->current_test, .kind = QST_ANSWER_YESNO,
				  .text = text, .stimulus = QST_STIM_NONE,
				  .stimulus_value = NAN };
	struct qst_answer a;
	memset(&a, 0, sizeof(a));
	clearerr(s->cfg->operator_console->in); /* a read cut by Ctrl-C */
	if (qst_console_ask(s->cfg->operator_console, &q, &a) < 0 ||
	    stop_requested(s))
		return false;
	return !a.not_done && a.value == 1.0;
}

/* The session ends on this fault: from now on nothing more is sent to the
 * thermode and the script cannot go on (the first fault is the one kept). */
static void latch_fault(struct session *s, int code)
{
	if (!s->fault)
		s->fault = code;
}

/* The operator resumed: the device gets a fresh deadline from now. The
 * silence that caused the pause would otherwise trip the readback
 * watchdog again at once, before the device had a chance to answer. */
static void restart_watchdogs(struct session *s)
{
	s->last_readback_ns = qst_station_now(s->st);
	qst_tracking_reset(&s->track);
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		qst_link_noise_reset(&s->noise[r]);
}

/* Resuming after a pause: the method's baseline again, in place of the
 * safe neutral, reached before anything else is stimulated. 1: there;
 * 0: not within 60 s; < 0: an error. */
static int back_to_baseline(struct session *s)
{
	restart_watchdogs(s);
	if (s->resume_neutral_c != s->neutral_c) {
		int ret = qst_station_thermal_neutral(s->st, s->resume_neutral_c);
		if (ret < 0)
			return ret;
		s->neutral_c = s->resume_neutral_c;
	}
	int64_t deadline = qst_station_now(s->st) + 60 * QST_NS_PER_S;
	return pump(s, deadline, NULL, WAIT_TEMPERATURE_NEAR, s->neutral_c, 0.5);
}

/*
 * Issue 7 items 2 and 3: after a fault or a stop the thermode has been
 * aborted; the session waits for the operator, who resumes (the method
 * repeats the trial) or ends it. Never silently continued: without an
 * operator console, or in a method that cannot repeat, it ends.
 */
static int pause_session(struct session *s, int code, const char *why)
{
	if (s->cfg->stop_request)
		*s->cfg->stop_request = 0;
	if (s->paused) { /* a stop while paused ends the session */
		latch_fault(s, code);
		return fail(s, code, "%s while paused; the session was ended", why);
	}
	record_event(s, QST_EVC_PAUSE, QST_EVS_STATION, code, NAN, why);
	s->paused = true;
	bool resume = operator_resumes(s, why);
	int ret = resume ? back_to_baseline(s) : QST_OK;
	s->paused = false;
	if (!resume) {
		latch_fault(s, code);
		return fail(s, code, "%s: %s; the session was ended",
			    code == QST_ERR_ABORTED ? "emergency stop" :
						      "stimulation aborted", why);
	}
	if (ret < 0)
		return ret;
	if (ret == 0)
		return fail(s, QST_ERR_DEVICE, "%s; the thermode did not return "
			    "to baseline within 60 s", why);
	record_event(s, QST_EVC_RESUME, QST_EVS_OPERATOR, NAN, NAN, why);
	console_line(s, "resumed: the interrupted trial is repeated");
	return fail(s, QST_ERR_INTERRUPTED, "%s; resumed", why);
}

/* ------------------------------------------------- recording failures */

/* A full disk is waited out this long, trying again this often [U: issue
 * 7 item 4: long enough to free space by hand, short enough that the
 * subject is not kept waiting unknowingly]. */
#define DISK_RETRY_EVERY_NS (5 * QST_NS_PER_S)
#define DISK_RETRY_FOR_NS (10 * 60 * QST_NS_PER_S)

static bool is_write_failure(int err)
{
	return err == QST_ERR_NOSPACE || err == QST_ERR_IO;
}

/* Try the recorder again every 5 s while the devices are watched.
 * 1: written; 0: still failing after 10 min; < 0: a stop or a fault. */
static int retry_recording(struct session *s)
{
	int64_t give_up = qst_station_now(s->st) + DISK_RETRY_FOR_NS;
	for (;;) {
		int64_t next = qst_station_now(s->st) + DISK_RETRY_EVERY_NS;
		if (next > give_up)
			return 0;
		int ret = pump(s, next, NULL, WAIT_NOTHING, 0, 0);
		if (ret < 0)
			return ret;
		ret = qst_recorder_flush(s->rec);
		if (ret == QST_OK)
			return 1;
		if (!is_write_failure(ret))
			return ret;
	}
}

/*
 * The recorder could not write WHAT (issue 7 item 4). It keeps what it
 * was given in memory, so nothing is lost while the disk is full; but no
 * stimulus is given that could not be recorded: the thermode stops as
 * after a device fault, the operator is told, and the session pauses,
 * retrying the write. It resumes by itself once the write succeeds: a
 * trial that was complete is then on disk and the session goes on; one
 * cut short (MID_TRIAL) is repeated. Never resumed: ended, exit 7.
 */
static int recording_failed(struct session *s, int err, const char *what,
			    bool mid_trial)
{
	if (!is_write_failure(err) || s->paused)
		return fail(s, err, "cannot record %s: %s", what, qst_strerror(err));
	stop_thermode(s);
	qst_station_hand_release(s->st);
	record_thermode_stop(s, "recording failed");
	console_line(s, "%s: %s could not be written (%s); stimulation stopped, "
		     "session paused; nothing recorded so far is lost. Retrying "
		     "every %d s for up to %d min.",
		     err == QST_ERR_NOSPACE ? "DISK FULL" : "RECORDING FAILED",
		     what, qst_strerror(err), (int)(DISK_RETRY_EVERY_NS / QST_NS_PER_S),
		     (int)(DISK_RETRY_FOR_NS / QST_NS_PER_S / 60));
	record_event(s, QST_EVC_PAUSE, QST_EVS_STATION, err, NAN, "recording failed");
	s->paused = true;
	int ret = retry_recording(s);
	bool written = ret == 1;
	if (written)
		ret = back_to_baseline(s);
	s->paused = false;
	if (!written && (ret == 0 || is_write_failure(ret))) {
		latch_fault(s, err);
		return fail(s, err, "%s: %s still could not be written after %d "
			    "min; the session was ended. Every trial shown as done "
			    "is in the journal", qst_strerror(err), what,
			    (int)(DISK_RETRY_FOR_NS / QST_NS_PER_S / 60));
	}
	if (ret < 0)
		return ret;
	if (ret == 0)
		return fail(s, QST_ERR_DEVICE, "recording resumed, but the thermode "
			    "did not return to baseline within 60 s");
	record_event(s, QST_EVC_RESUME, QST_EVS_STATION, NAN, NAN, "recording resumed");
	console_line(s, "recording resumed: everything is on disk%s", mid_trial ?
		     "; the interrupted trial is repeated" : "");
	return mid_trial ? fail(s, QST_ERR_INTERRUPTED, "%s; resumed", what) : QST_OK;
}

/* Pump device events until a key press (if press != NULL), a temperature
 * condition, or the deadline. 1: press or condition met; 0: deadline. */
static int on_pressure(struct session *s, const struct qst_event *ev);

static int pump(struct session *s, int64_t deadline, struct qst_press *press,
		enum wait_for what, double target, double tol)
{
	for (;;) {
		if (stop_requested(s))
			return emergency_stop(s, QST_EVS_OPERATOR,
					      "the operator's stop (Ctrl-C)");
		int ret = check_key_stop(s, NULL);
		if (ret < 0)
			return ret;
		int64_t now = qst_station_now(s->st);
		int64_t watchdog = readback_deadline(s, now);
		if (now >= watchdog)
			return watchdog_fault(s, now);
		if (now >= deadline)
			return 0;
		int64_t until = deadline < watchdog ? deadline : watchdog;
		int64_t stop_due = stop_check_due(s, now);
		struct qst_event ev;
		int got = qst_station_next_event(s->st, stop_due < until ? stop_due :
						 until, &ev);
		if (got < 0)
			return fail(s, got, "station: %s", qst_strerror(got));
		if (got == 0)
			continue;
		switch (ev.type) {
		case QST_EV_TEMPERATURE:
			ret = on_temperature(s, &ev);
			if (ret == QST_OK && what == WAIT_TEMPERATURE_NEAR &&
			    fabs(s->last_measured_c - target) <= tol)
				return 1;
			break;
		case QST_EV_PRESSURE:
			ret = on_pressure(s, &ev);
			if (ret == QST_OK && what == WAIT_PRESSURE_BELOW &&
			    s->last_kpa < target)
				return 1;
			break;
		case QST_EV_BUTTON: {
			double rt = ev.u.button.device_rt_ms >= 0 ?
					    ev.u.button.device_rt_ms / 1e3 : NAN;
			record_event_at(s, ev.t_ns, ev.u.button.pressed ?
						QST_EVC_RESPONSE_PRESS :
						QST_EVC_RESPONSE_RELEASE,
					QST_EVS_RESPONSE, ev.u.button.key, rt, NULL);
			if ((ret = check_key_stop(s, &ev)) < 0)
				return ret;
			if (what == WAIT_KEY_RELEASED && s->held_key < 0)
				return 1;
			if (press && ev.u.button.pressed) {
				*press = (struct qst_press){ ev.t_ns, ev.u.button.key, rt };
				return 1;
			}
			break;
		}
		case QST_EV_DEVICE_FAULT:
			return device_fault(s, QST_ERR_DEVICE, role_source(ev.device),
					    NAN, NAN, ev.u.text);
		case QST_EV_LINK_NOISE:
			ret = on_link_noise(s, &ev);
			break;
		case QST_EV_SYNC:
			record_event_at(s, ev.t_ns, QST_EVC_SYNC, QST_EVS_SYNC,
					ev.u.sync.code, ev.u.sync.pulse_ms, NULL);
			break;
		case QST_EV_RATING:
			ret = on_rating(s, &ev);
			break;
		default:
			qst_dbg("device %d says: %s", ev.device, ev.u.text);
			break;
		}
		if (ret < 0)
			return ret;
	}
}

/* ------------------------------------------------------------- the rig */

static int64_t rig_now(void *rig)
{
	return qst_station_now(((struct session *)rig)->st);
}

/* After `A` the device returns from where it is to neutral at the return
 * rate it was given; so does the model, or a script that catches the
 * refusal would have its next readback judged against the old ramp. */
static void model_abort(struct session *s)
{
	int64_t now = qst_station_now(s->st);
	if (s->sp.rate_c_s <= 0 || now >= s->profile_end_ns)
		return;
	double at = commanded_at(s, now), back = s->sp.return_c_s;
	s->prev_sp = s->sp;
	s->sp = (struct setpoint){ .t0_ns = now, .from_c = at, .target_c = at,
				   .rate_c_s = back, .hold_s = 0.0,
				   .return_c_s = back, .neutral_c = s->neutral_c };
	s->profile_end_ns = now + qst_s_to_ns(fabs(at - s->neutral_c) / back);
}

static int refuse(struct session *s, const char *why)
{
	char where[160];
	describe_step(s, where, sizeof(where));
	s->sum->refusals++;
	record_event(s, QST_EVC_REFUSAL, QST_EVS_SUPERVISOR, NAN, NAN, why);
	/* Whatever was running, the thermode goes back to baseline. */
	qst_station_thermal_abort(s->st);
	model_abort(s);
	return fail(s, QST_ERR_LIMIT, "refused by the safety supervisor%s: %s",
		    where, why);
}

static void note_envelope(struct session *s, double c, double rate)
{
	struct qst_session_summary *m = s->sum;
	if (c < m->min_commanded_c)
		m->min_commanded_c = c;
	if (c > m->max_commanded_c)
		m->max_commanded_c = c;
	if (rate > m->max_rate_c_s)
		m->max_rate_c_s = rate;
}

static int rig_ramp(void *rig, double target_c, double rate_c_s,
		    double hold_s, double return_c_s)
{
	struct session *s = rig;
	char why[200];
	if (s->fault) /* latched: nothing more goes to the thermode */
		return s->fault;
	if (qst_supervisor_check_ramp(&s->cfg->limits, target_c, rate_c_s, hold_s,
				      return_c_s, why, sizeof(why)) < 0)
		return refuse(s, why);
	int64_t now = qst_station_now(s->st);
	double from = isnan(s->last_measured_c) ? commanded_at(s, now) :
						  s->last_measured_c;
	if (qst_dose_check_stimulus(&s->dose, now, from, target_c, rate_c_s, hold_s,
				    return_c_s, s->neutral_c, why, sizeof(why)) < 0)
		return refuse(s, why);
	int ret = qst_station_thermal_ramp(s->st, target_c, rate_c_s, hold_s,
					   return_c_s);
	if (ret < 0 && ret != QST_ERR_ARG && ret != QST_ERR_STATE)
		return send_fault(s, QST_EVS_THERMAL, "thermode", "ramp", ret);
	if (ret < 0)
		return fail(s, ret, "thermode refused the ramp to %.1f degC: %s",
			    target_c, qst_strerror(ret));
	/* The model plays what the device plays: rounded to its steps. */
	target_c = qst_station_thermal_as_played(s->st, target_c);
	rate_c_s = qst_station_thermal_as_played(s->st, rate_c_s);
	return_c_s = qst_station_thermal_as_played(s->st, return_c_s);
	s->prev_sp = s->sp;
	s->sp = (struct setpoint){ .t0_ns = now, .from_c = from,
				   .target_c = target_c, .rate_c_s = rate_c_s,
				   .hold_s = hold_s, .return_c_s = return_c_s,
				   .neutral_c = s->neutral_c };
	s->profile_start_ns = now;
	s->profile_end_ns = now + qst_s_to_ns(fabs(target_c - from) / rate_c_s + hold_s +
					      fabs(target_c - s->neutral_c) / return_c_s);
	note_envelope(s, target_c, rate_c_s > return_c_s ? rate_c_s : return_c_s);
	record_event(s, QST_EVC_STIM_RAMP, QST_EVS_THERMAL, target_c, rate_c_s, NULL);
	return QST_OK;
}

static void describe_wave(const struct qst_wave_segment *seg, size_t n,
			  char *buf, size_t len)
{
	int used = snprintf(buf, len, "waveform:");
	for (size_t i = 0; i < n && used > 0 && (size_t)used < len; i++)
		used += snprintf(buf + used, len - (size_t)used, " %.1f/%.3fs",
				 seg[i].to_c, seg[i].duration_s);
}

/* Every segment is checked (limits, rate ceiling, long holds, dose)
 * before a byte is sent, as a ramp is. */
static int rig_waveform(void *rig, const struct qst_wave_segment *seg,
			size_t n, double return_c_s)
{
	struct session *s = rig;
	char why[200];
	if (s->fault)
		return s->fault;
	int64_t now = qst_station_now(s->st);
	double from = isnan(s->last_measured_c) ? commanded_at(s, now) :
						  s->last_measured_c;
	if (qst_supervisor_check_waveform(&s->cfg->limits, from, seg, n, return_c_s,
					  why, sizeof(why)) < 0)
		return refuse(s, why);
	if (qst_dose_check_waveform(&s->dose, now, from, seg, n, return_c_s,
				    s->neutral_c, why, sizeof(why)) < 0)
		return refuse(s, why);
	int ret = qst_station_thermal_waveform(s->st, seg, n, return_c_s);
	if (ret < 0 && ret != QST_ERR_ARG && ret != QST_ERR_STATE &&
	    ret != QST_ERR_UNSUPPORTED && ret != QST_ERR_NOTFOUND)
		return send_fault(s, QST_EVS_THERMAL, "thermode", "waveform", ret);
	if (ret < 0)
		return fail(s, ret, "thermode refused the waveform: %s",
			    qst_strerror(ret));
	struct setpoint sp = { .t0_ns = now, .from_c = from, .neutral_c = s->neutral_c,
			       .return_c_s = qst_station_thermal_as_played(s->st, return_c_s),
			       .n_wave = (int)n };
	double hottest = -INFINITY, total = 0;
	for (size_t i = 0; i < n; i++) {
		sp.wave[i] = seg[i];
		sp.wave[i].to_c = qst_station_thermal_as_played(s->st, seg[i].to_c);
		double prev = i ? sp.wave[i - 1].to_c : from;
		note_envelope(s, sp.wave[i].to_c,
			      fabs(sp.wave[i].to_c - prev) / seg[i].duration_s);
		hottest = fmax(hottest, sp.wave[i].to_c);
		total += seg[i].duration_s;
	}
	sp.target_c = sp.wave[n - 1].to_c;
	sp.hold_s = total;
	sp.rate_c_s = sp.return_c_s;
	s->prev_sp = s->sp;
	s->sp = sp;
	s->profile_start_ns = now;
	s->profile_end_ns = now + qst_s_to_ns(total + fabs(sp.target_c - s->neutral_c) /
					      sp.return_c_s);
	char msg[256];
	describe_wave(seg, n, msg, sizeof(msg));
	record_event(s, QST_EVC_STIM_WAVEFORM, QST_EVS_THERMAL, hottest, (double)n, msg);
	return QST_OK;
}

/* Near enough to the new baseline to start from it, and how long the
 * plate may take to get there beyond a return at the last return rate
 * [U: our margin; the TCS II moves its plate tens of °C per second]. */
#define BASELINE_TOL_C 0.3
#define BASELINE_SETTLE_NS (10 * QST_NS_PER_S)

/*
 * Wait for the plate to reach a new baseline before anything starts from
 * it. At rest the readback comes once a second, and both the device's
 * rise time (D) and the session's model of a ramp start from the last
 * readback: a ramp launched at once would start from a stale temperature
 * and the plate would play a different profile than the one recorded
 * (found by tests/prop/prop_supervisor.py as a tracking false alarm).
 */
static int await_baseline(struct session *s, double from_c, double celsius)
{
	/* No readback yet at the start of a session: the plate rests at the
	 * old neutral. */
	double off = fabs((isnan(s->last_measured_c) ? from_c : s->last_measured_c) -
			  celsius);
	if (off <= BASELINE_TOL_C)
		return QST_OK;
	/* A stimulus the device has not quite finished (its rise time came
	 * from a readback a little off the true plate) returns to the new
	 * neutral at its return rate. */
	double slowest = s->sp.return_c_s > 0 ? s->sp.return_c_s : 1.0;
	int64_t wait = qst_s_to_ns(off / slowest) + BASELINE_SETTLE_NS;
	int ret = pump(s, qst_station_now(s->st) + wait, NULL,
		       WAIT_TEMPERATURE_NEAR, celsius, BASELINE_TOL_C);
	if (ret != 0)
		return ret < 0 ? ret : QST_OK;
	char msg[128];
	snprintf(msg, sizeof(msg), "thermode reads %.1f °C, not at the %.1f °C "
		 "baseline after %.0f s", s->last_measured_c, celsius,
		 qst_ns_to_s(wait));
	return device_fault(s, QST_ERR_DEVICE, QST_EVS_SUPERVISOR,
			    s->last_measured_c, celsius, msg);
}

static int rig_set_baseline(void *rig, double celsius)
{
	struct session *s = rig;
	char why[200];
	if (s->fault)
		return s->fault;
	if (qst_supervisor_check_neutral(&s->cfg->limits, celsius, why,
					 sizeof(why)) < 0)
		return refuse(s, why);
	if (qst_station_thermal_as_played(s->st, celsius) == s->neutral_c)
		return QST_OK;
	/* A running stimulus returns to the neutral it was given: let it
	 * (the device would turn its return toward the new one mid-way). */
	int ret = qst_station_now(s->st) < s->profile_end_ns ?
			  pump(s, s->profile_end_ns, NULL, WAIT_NOTHING, 0, 0) : 0;
	if (ret < 0)
		return ret;
	ret = qst_station_thermal_neutral(s->st, celsius);
	if (ret < 0 && ret != QST_ERR_ARG && ret != QST_ERR_STATE)
		return send_fault(s, QST_EVS_THERMAL, "thermode", "baseline", ret);
	if (ret < 0)
		return fail(s, ret, "thermode refused baseline %.1f degC: %s",
			    celsius, qst_strerror(ret));
	double from = s->neutral_c;
	s->neutral_c = qst_station_thermal_as_played(s->st, celsius);
	if (qst_station_now(s->st) >= s->profile_end_ns)
		s->sp.neutral_c = celsius; /* the model rests there too */
	note_envelope(s, celsius, 0);
	record_event(s, QST_EVC_STIM_NEUTRAL, QST_EVS_THERMAL, celsius, NAN, NULL);
	return await_baseline(s, from, celsius);
}

static int rig_reset_timer(void *rig)
{
	struct session *s = rig;
	int ret = qst_station_response_reset(s->st);
	return ret < 0 ? send_fault(s, QST_EVS_RESPONSE, "response pad",
				    "timer reset", ret) : ret;
}

static int rig_await_press(void *rig, int64_t deadline_ns,
			   struct qst_press *press)
{
	return pump(rig, deadline_ns, press, WAIT_NOTHING, 0, 0);
}

static int rig_await_temperature(void *rig, double target_c, double tol_c,
				 int64_t deadline_ns)
{
	struct session *s = rig;
	if (fabs(s->last_measured_c - target_c) <= tol_c &&
	    fabs(commanded_at(s, qst_station_now(s->st)) - target_c) <= tol_c)
		return 1;
	return pump(s, deadline_ns, NULL, WAIT_TEMPERATURE_NEAR, target_c, tol_c);
}

static void rig_task(void *rig, const struct qst_task *task)
{
	qst_station_participant_task(((struct session *)rig)->st, task);
}

static int rig_trial_begin(void *rig)
{
	struct session *s = rig;
	s->current_trial = s->next_trial_id++;
	record_event(s, QST_EVC_TRIAL_START, QST_EVS_STATION, s->current_test,
		     NAN, NULL);
	return s->current_trial;
}

/* A press still held may turn into the stop; then it was no answer and
 * the trial must not be kept. Wait until the key is up or the stop. Not
 * in TSL, where the press reverses the ramp at once: there the press that
 * began a stop stays the answer of its ramp, beside the stop event. */
static int await_key_release(struct session *s, int test)
{
	if (test == QST_TSL || s->held_key < 0 || s->cfg->estop_hold_ns <= 0)
		return QST_OK;
	int64_t deadline = s->held_since_ns + s->cfg->estop_hold_ns + QST_NS_PER_MS;
	int ret = pump(s, deadline, NULL, WAIT_KEY_RELEASED, NAN, NAN);
	return ret < 0 ? ret : QST_OK;
}

/* The operator's line for a trial: only once it is on disk, so a trial
 * shown as done is one a crash cannot take away. */
static void print_trial(struct session *s, const struct qst_trial_record *t)
{
	char times[80];
	format_times(s, times, sizeof(times));
	const struct qst_param_info *info = qst_param_info(t->test);
	const char *tsl = t->test != QST_TSL ? "" : t->direction > 0 ? " warm" : " cold";
	if (t->flags & QST_TRIAL_ABORTED)
		console_line(s, "%-3s %d/%d%s aborted   [%s]", qst_param_name(t->test),
			     s->test_trials_done, s->test_trials_total, tsl, times);
	else
		console_line(s, "%-3s %d/%d%s %6.2f %s%s   [%s]", qst_param_name(t->test),
			     s->test_trials_done, s->test_trials_total, tsl,
			     t->value_measured,
			     info ? qst_unit_display(info->trial_units.value) : "",
			     (t->flags & QST_TRIAL_CUTOFF_REACHED) ? "  (cut-off)" : "",
			     times);
}

static int record_trial(struct session *s, const struct qst_trial_record *t)
{
	if (!s->rec)
		return QST_OK;
	int ret = qst_recorder_trial(s->rec, t);
	if (ret == QST_OK)
		return QST_OK;
	char what[48];
	snprintf(what, sizeof(what), "%s trial %d", qst_param_name(t->test),
		 s->test_trials_done);
	return recording_failed(s, ret, what, false);
}

static int rig_trial_end(void *rig, const struct qst_trial_record *t)
{
	struct session *s = rig;
	int held = await_key_release(s, t->test);
	if (held < 0)
		return held;
	record_event(s, QST_EVC_TRIAL_END, QST_EVS_STATION, t->test,
		     t->value_measured, NULL);
	s->test_trials_done++;
	s->current_trial = -1;
	int ret = record_trial(s, t);
	if (ret < 0)
		return ret;
	s->sum->trials++;
	if (t->test >= 0 && t->test < QST_PARAM_COUNT)
		s->sum->tests[t->test]++;
	if (t->flags & QST_TRIAL_CUTOFF_REACHED)
		s->sum->cutoffs++;
	print_trial(s, t);
	return QST_OK;
}

static void rig_event(void *rig, int code, double value, double value2,
		      const char *message)
{
	record_event(rig, code, QST_EVS_STATION, value, value2, message);
}

static double rig_uniform(void *rig)
{
	return qst_rng_uniform(&((struct session *)rig)->rng);
}

static const struct qst_rig_ops rig_ops;

/* Simulated operator: how long a manual step takes (apply, ask, enter). */
#define SIM_STEP_NS (3 * QST_NS_PER_S)

static int answer_from_participant(struct session *s, const struct qst_question *q,
				   struct qst_answer *a, int64_t answer_at)
{
	/* Give the step the time it takes at a real bedside. */
	int ret = qst_method_idle(&rig_ops, s, answer_at);
	if (ret < 0)
		return ret;
	a->value = qst_station_participant_answer(s->st, q->test, q->stimulus,
						  q->stimulus_value, q->kind);
	a->t_ns = qst_station_now(s->st);
	if (isnan(a->value))
		return fail(s, QST_ERR_STATE, "no one to answer '%s': a station "
			    "of real devices takes the answers from the operator "
			    "(--answers -)", q->text);
	return QST_OK;
}

/* An operator answers when they do; the virtual participant at answer_at. */
static int ask_until(struct session *s, const struct qst_question *q,
		     struct qst_answer *a, int64_t answer_at)
{
	memset(a, 0, sizeof(*a));
	int ret, source;
	if (s->cfg->operator_console) {
		ret = qst_console_ask(s->cfg->operator_console, q, a);
		source = QST_EVS_OPERATOR;
		if (stop_requested(s)) /* Ctrl-C while the console waited */
			return emergency_stop(s, QST_EVS_OPERATOR,
					      "the operator's stop (Ctrl-C)");
		if (ret < 0)
			return fail(s, ret, "operator console: %s",
				    s->cfg->operator_console->error);
	} else {
		ret = answer_from_participant(s, q, a, answer_at);
		source = QST_EVS_PARTICIPANT;
		if (ret < 0)
			return ret;
	}
	if (a->not_done) {
		record_event(s, QST_EVC_TEST_NOT_DONE, source, q->test, NAN, a->reason);
		console_line(s, "%s not done: %s", qst_param_name(q->test), a->reason);
		return QST_OK;
	}
	char what[160];
	snprintf(what, sizeof(what), "%s: %s", qst_stimulus_name(q->stimulus), q->text);
	record_event(s, QST_EVC_STIMULUS, source, q->stimulus_value, a->value, what);
	if (isfinite(q->stimulus_value)) {
		s->sum->min_force_mn = fmin(s->sum->min_force_mn, q->stimulus_value);
		s->sum->max_force_mn = fmax(s->sum->max_force_mn, q->stimulus_value);
	}
	qst_dbg("%s %s %.4g -> %g", qst_param_name(q->test),
		qst_stimulus_name(q->stimulus), q->stimulus_value, a->value);
	return QST_OK;
}

static int rig_ask(void *rig, const struct qst_question *q, struct qst_answer *a)
{
	struct session *s = rig;
	return ask_until(s, q, a, qst_station_now(s->st) + SIM_STEP_NS);
}

static int rig_ask_by(void *rig, const struct qst_question *q,
		      struct qst_answer *a, int64_t deadline_ns)
{
	struct session *s = rig;
	int64_t now = qst_station_now(s->st);
	return ask_until(s, q, a, deadline_ns > now ? deadline_ns : now);
}

/* Events until the pacer's handover, then its precise wait (qst_core.h). */
static int rig_pace(void *rig, int64_t due_ns, struct qst_press *press)
{
	struct session *s = rig;
	int64_t handover = qst_pacer_handover(&s->pacer, &s->st->clock, due_ns);
	int ret = pump(s, handover, press, WAIT_NOTHING, 0, 0);
	if (ret != 0)
		return ret;
	qst_pacer_wait(&s->pacer, &s->st->clock, due_ns);
	return 0;
}

static void rig_cue(void *rig, const char *text)
{
	struct session *s = rig;
	record_event(s, QST_EVC_CUE, QST_EVS_STATION, NAN, NAN, text);
	if (s->cfg->operator_console)
		console_line(s, "%s", text);
}

static int rig_pressure_apply(void *rig, double rate_kpa_s)
{
	struct session *s = rig;
	record_event(s, QST_EVC_PRESSURE_APPLY, QST_EVS_STATION, rate_kpa_s, NAN, NULL);
	console_line(s, "press the algometer at %.0f kPa/s until the subject presses the button",
		     rate_kpa_s);
	s->pressure_from_ns = qst_station_now(s->st);
	s->last_rate_report_ns = s->pressure_from_ns;
	qst_station_hand_press(s->st, rate_kpa_s);
	return QST_OK;
}

static int rig_pressure_release(void *rig)
{
	struct session *s = rig;
	record_event(s, QST_EVC_PRESSURE_RELEASE, QST_EVS_STATION, s->last_kpa, NAN, NULL);
	console_line(s, "release the algometer");
	s->pressure_from_ns = 0;
	qst_station_hand_release(s->st);
	return QST_OK;
}

static double rig_pressure_at(void *rig, int64_t t_ns)
{
	return history_at(&((struct session *)rig)->pressure_hist, t_ns);
}

static int rig_await_pressure_below(void *rig, double kpa, int64_t deadline_ns)
{
	struct session *s = rig;
	if (s->last_kpa < kpa)
		return 1;
	return pump(s, deadline_ns, NULL, WAIT_PRESSURE_BELOW, kpa, 0);
}

static const struct qst_rig_ops rig_ops = {
	.now = rig_now,
	.ramp = rig_ramp,
	.set_baseline = rig_set_baseline,
	.reset_response_timer = rig_reset_timer,
	.await_press = rig_await_press,
	.await_temperature = rig_await_temperature,
	.measured_at = measured_at,
	.commanded_at = commanded_at,
	.task = rig_task,
	.trial_begin = rig_trial_begin,
	.trial_end = rig_trial_end,
	.event = rig_event,
	.uniform = rig_uniform,
	.ask = rig_ask,
	.cue = rig_cue,
	.pressure_apply = rig_pressure_apply,
	.pressure_release = rig_pressure_release,
	.pressure_at = rig_pressure_at,
	.await_pressure_below = rig_await_pressure_below,
	.pace = rig_pace,
	.waveform = rig_waveform,
	.ask_by = rig_ask_by,
};

/* ------------------------------------------------------ the script host */

/* After a device fault the script may not go on (it could catch an
 * ordinary error and stimulate again): QST_ERR_ABORTED is final. */
static int host_error(struct session *s, int ret, char *errbuf, size_t errlen)
{
	if (ret < 0)
		snprintf(errbuf, errlen, "%s", s->err[0] ? s->err : qst_strerror(ret));
	return ret < 0 && s->fault ? QST_ERR_ABORTED : ret;
}

static void fill_protocol_meta(struct session *s, struct qst_session_meta *m,
			       const struct qst_protocol_decl *decl)
{
	snprintf(m->protocol_name, sizeof(m->protocol_name), "%s", decl->name);
	snprintf(m->protocol_version, sizeof(m->protocol_version), "%s",
		 decl->version);
	snprintf(m->protocol_path, sizeof(m->protocol_path), "%s",
		 s->cfg->protocol_path);
	m->protocol_text = s->cfg->protocol_text;
	m->protocol_len = s->cfg->protocol_len;
	qst_sha256_hex(m->protocol_text, m->protocol_len, m->protocol_sha256);
	m->origin_utc_ns = s->st->clock.origin_utc_ns;
}

static int add_devices(struct session *s)
{
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		if (!qst_station_has(s->st, (enum qst_role)r))
			continue;
		const struct qst_dev *d = &s->st->dev[r];
		struct qst_device_record rec = { 0 };
		snprintf(rec.role, sizeof(rec.role), "%s",
			 qst_role_name((enum qst_role)r));
		snprintf(rec.driver, sizeof(rec.driver), "%s", d->driver->name);
		snprintf(rec.model, sizeof(rec.model), "%s", d->info.model);
		snprintf(rec.serial, sizeof(rec.serial), "%s", d->info.serial);
		snprintf(rec.firmware, sizeof(rec.firmware), "%s", d->info.firmware);
		snprintf(rec.transport, sizeof(rec.transport), "%s",
			 d->transport->description);
		int ret = qst_recorder_add_device(s->rec, &rec);
		if (ret < 0)
			return ret;
	}
	return QST_OK;
}

/* A protocol's qst.protocol{devices = {...}} names roles. */
static bool station_has(struct session *s, const char *role)
{
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		if (!strcmp(role, qst_role_name((enum qst_role)r)))
			return qst_station_has(s->st, (enum qst_role)r);
	return false;
}

static int host_declare(void *user, const struct qst_protocol_decl *decl,
			char *errbuf, size_t errlen)
{
	struct session *s = user;
	for (int i = 0; i < decl->n_devices; i++)
		if (!station_has(s, decl->devices[i]))
			return host_error(s, fail(s, QST_ERR_UNSUPPORTED,
				"the protocol needs a %s device, which this station lacks",
				decl->devices[i]), errbuf, errlen);
	for (int i = 0; i < decl->n_devices; i++)
		if (!strcmp(decl->devices[i], "rating"))
			qst_station_rating_capture(s->st, true);
	snprintf(s->sum->protocol_name, sizeof(s->sum->protocol_name), "%s", decl->name);
	snprintf(s->sum->protocol_version, sizeof(s->sum->protocol_version), "%s",
		 decl->version);
	s->declared = true;
	console_line(s, "protocol %s %s", decl->name, decl->version);
	if (!s->cfg->out_path)
		return QST_OK;
	struct qst_session_meta meta = s->cfg->meta;
	fill_protocol_meta(s, &meta, decl);
	int ret = qst_recorder_create(s->cfg->out_path, &meta, s->cfg->overwrite,
				      &s->rec);
	if (ret < 0)
		return host_error(s, fail(s, ret, "cannot create %s: %s",
					  s->cfg->out_path, qst_strerror(ret)),
				  errbuf, errlen);
	s->sum->recorded = true;
	ret = add_devices(s);
	if (ret < 0)
		return host_error(s, fail(s, ret, "cannot record devices: %s",
					  qst_strerror(ret)), errbuf, errlen);
	record_event(s, QST_EVC_SESSION_START, QST_EVS_STATION, NAN, NAN, decl->name);
	if (s->cfg->realtime)
		record_event(s, QST_EVC_REALTIME, QST_EVS_STATION, s->rt.fifo,
			     s->rt.memory_locked, s->rt.what);
	/* What the run gave the script (qst run --set), with the session. */
	for (int i = 0; i < s->own.n_options; i++) {
		char msg[96];
		snprintf(msg, sizeof(msg), "option %s = %.17g", s->own.options[i].key,
			 s->own.options[i].value);
		record_event(s, QST_EVC_LOG, QST_EVS_OPERATOR, s->own.options[i].value,
			     NAN, msg);
	}
	/* The device's own clamp is a second line behind the supervisor. */
	if (qst_station_has(s->st, QST_ROLE_THERMAL))
		ret = qst_station_thermal_max(s->st, s->cfg->limits.max_c);
	return host_error(s, ret < 0 ? fail(s, ret, "thermode refused its maximum: %s",
					    qst_strerror(ret)) : QST_OK, errbuf, errlen);
}

static int host_section(void *user, const char *title, char *errbuf,
			size_t errlen)
{
	struct session *s = user;
	(void)errbuf;
	(void)errlen;
	struct qst_session_summary *sum = s->sum;
	sum->sections++;
	snprintf(s->step, sizeof(s->step), "%s", title);
	if (sum->n_steps < QST_SUMMARY_MAX_STEPS) {
		struct qst_step_summary *step = &sum->steps[sum->n_steps++];
		snprintf(step->title, sizeof(step->title), "%s", title);
		step->start_ns = qst_station_now(s->st);
		step->trials_before = sum->trials;
	}
	record_event(s, QST_EVC_LOG, QST_EVS_SCRIPT, NAN, NAN, title);
	console_line(s, "== %s", title);
	return QST_OK;
}

static int host_instruct(void *user, const char *text, char *errbuf,
			 size_t errlen)
{
	struct session *s = user;
	(void)errbuf;
	(void)errlen;
	record_event(s, QST_EVC_INSTRUCTION, QST_EVS_SCRIPT, NAN, NAN, text);
	console_line(s, "say: \"%s\"", text);
	return QST_OK;
}

static int run_test(struct session *s, int test, int ret_of_method)
{
	record_event(s, QST_EVC_TEST_END, QST_EVS_STATION, test, NAN,
		     ret_of_method < 0 ? "incomplete" : NULL);
	s->current_test = -1;
	return ret_of_method;
}

static int begin_test(struct session *s, int test, int trials)
{
	s->resumable = false;
	s->current_test = test;
	s->test_trials_done = 0;
	s->test_trials_total = trials;
	record_event(s, QST_EVC_TEST_START, QST_EVS_STATION, test, NAN, NULL);
	return test;
}

static int host_limits(void *user, const struct qst_limits_params *p,
		       char *errbuf, size_t errlen)
{
	struct session *s = user;
	int test = begin_test(s, p->test, p->repetitions);
	s->resumable = true;
	int ret = run_test(s, test, qst_method_limits(&rig_ops, s, p));
	return host_error(s, ret, errbuf, errlen);
}

static int host_tsl(void *user, const struct qst_tsl_params *p, char *errbuf,
		    size_t errlen)
{
	struct session *s = user;
	int test = begin_test(s, QST_TSL, 2 * p->pairs);
	s->resumable = true;
	int ret = run_test(s, test, qst_method_tsl(&rig_ops, s, p));
	return host_error(s, ret, errbuf, errlen);
}

/* Methods return 1 when the operator ended the test (recorded as not
 * done by rig_ask); that is not an error of the session. */
static int run_manual(struct session *s, int test, int method_ret,
		      char *errbuf, size_t errlen)
{
	int ret = run_test(s, test, method_ret < 0 ? method_ret : QST_OK);
	return host_error(s, ret, errbuf, errlen);
}

static int host_series(void *user, const struct qst_series_params *p,
		       char *errbuf, size_t errlen)
{
	struct session *s = user;
	int test = begin_test(s, p->test, 2 * p->series_pairs);
	return run_manual(s, test, qst_method_series(&rig_ops, s, p), errbuf, errlen);
}

static int host_srf(void *user, const struct qst_srf_params *p, char *errbuf,
		    size_t errlen)
{
	struct session *s = user;
	/* MPS and DMA share one run of stimuli (§2.6); their rows carry their
	 * own test codes, the running test shows as MPS. */
	int test = begin_test(s, QST_MPS, 10 * p->runs);
	uint64_t seed = qst_rng_next(&s->rng);
	record_event(s, QST_EVC_LOG, QST_EVS_STATION, (double)(seed >> 11), NAN,
		     "stimulus order seed (value, 53 bits)");
	return run_manual(s, test, qst_method_srf(&rig_ops, s, p, seed >> 11),
			  errbuf, errlen);
}

static int host_wur(void *user, const struct qst_wur_params *p, char *errbuf,
		    size_t errlen)
{
	struct session *s = user;
	int test = begin_test(s, QST_WUR, 2 * p->repetitions);
	return run_manual(s, test, qst_method_wur(&rig_ops, s, p), errbuf, errlen);
}

static int host_vdt(void *user, const struct qst_vdt_params *p, char *errbuf,
		    size_t errlen)
{
	struct session *s = user;
	int test = begin_test(s, QST_VDT, p->readings);
	return run_manual(s, test, qst_method_vdt(&rig_ops, s, p), errbuf, errlen);
}

static int host_ppt(void *user, const struct qst_ppt_params *p, char *errbuf,
		    size_t errlen)
{
	struct session *s = user;
	int test = begin_test(s, QST_PPT, p->trials);
	s->resumable = true;
	int ret = qst_station_pressure_zero(s->st);
	if (ret == QST_OK)
		ret = qst_station_pressure_rate(s->st, 100.0);
	if (ret < 0)
		ret = fail(s, ret, "algometer: %s", qst_strerror(ret));
	else
		ret = qst_method_ppt(&rig_ops, s, p);
	int off = qst_station_pressure_rate(s->st, 0.0);
	if (ret >= 0 && off < 0)
		ret = fail(s, off, "algometer: %s", qst_strerror(off));
	return run_manual(s, test, ret, errbuf, errlen);
}

static int host_pulse_train(void *user, const struct qst_pulse_train_params *p,
			    char *errbuf, size_t errlen)
{
	struct session *s = user;
	s->resumable = false;
	s->pacer.max_late_ns = 0; /* this train's, for the operator's line */
	int ret = qst_method_pulse_train(&rig_ops, s, p);
	/* The operator ended it (recorded as not done by rig_ask). */
	if (ret == QST_METHOD_NOT_DONE)
		ret = QST_OK;
	if (ret == QST_ERR_ARG)
		ret = fail(s, QST_ERR_SCRIPT, "pulse train: implausible settings");
	else if (ret == QST_OK)
		console_line(s, "pulse train of %d done: the pacer's waits ended at "
			     "most %.3f ms late (each pulse's command lateness is "
			     "recorded with it)", p->pulses,
			     qst_ns_to_s(s->pacer.max_late_ns) * 1e3);
	return host_error(s, ret, errbuf, errlen);
}

/* Rates become durations from where each segment starts; the first from
 * the plate's temperature now. */
static int resolve_waveform(struct session *s, const struct qst_waveform_params *p,
			    struct qst_wave_segment *seg)
{
	double from = isnan(s->last_measured_c) ? s->neutral_c : s->last_measured_c;
	for (int i = 0; i < p->n; i++) {
		double d = p->seg[i].duration_s;
		if (isnan(d))
			d = fabs(p->seg[i].to_c - from) / p->seg[i].rate_c_s;
		if (!(d > 0))
			return fail(s, QST_ERR_SCRIPT, "waveform segment %d goes "
				    "nowhere (already at %.1f degC): give it a "
				    "duration, not a rate", i + 1, p->seg[i].to_c);
		seg[i] = (struct qst_wave_segment){ p->seg[i].to_c, d };
		from = p->seg[i].to_c;
	}
	return QST_OK;
}

/* Returns once the profile has been played and the return is over. */
static int host_waveform(void *user, const struct qst_waveform_params *p,
			 char *errbuf, size_t errlen)
{
	struct session *s = user;
	struct qst_wave_segment seg[QST_WAVEFORM_MAX_SEGMENTS];
	s->resumable = false;
	int ret = resolve_waveform(s, p, seg);
	if (ret == QST_OK)
		ret = rig_waveform(s, seg, (size_t)p->n, p->return_rate_c_s);
	if (ret == QST_OK)
		ret = qst_method_idle(&rig_ops, s, s->profile_end_ns);
	return host_error(s, ret < 0 ? ret : QST_OK, errbuf, errlen);
}

/* Issue 6: the null-stimulus schedule comes from the session's seed and
 * is recorded, as the MPS/DMA order is. */
static uint64_t catch_seed(struct session *s)
{
	uint64_t seed = qst_rng_next(&s->rng) >> 11;
	record_event(s, QST_EVC_LOG, QST_EVS_STATION, (double)seed, NAN,
		     "null-stimulus schedule seed (value, 53 bits)");
	return seed;
}

/* Levels and staircase: one thermal yes/no test each; the method's
 * estimate and false alarms go back to the script. */
static int host_yesno(struct session *s, const struct qst_yesno_params *yn,
		      const struct qst_levels_params *levels,
		      const struct qst_staircase_params *staircase,
		      double *threshold, int *false_alarms, char *errbuf,
		      size_t errlen)
{
	int test = begin_test(s, yn->test, yn->max_trials);
	s->resumable = true;
	struct qst_adaptive_result r;
	int ret = levels ? qst_method_levels(&rig_ops, s, levels, catch_seed(s), &r) :
			   qst_method_staircase(&rig_ops, s, staircase,
						catch_seed(s), &r);
	*threshold = r.threshold;
	*false_alarms = r.false_alarms;
	return host_error(s, run_test(s, test, ret), errbuf, errlen);
}

static int host_levels(void *user, const struct qst_levels_params *p,
		       double *threshold, int *false_alarms, char *errbuf,
		       size_t errlen)
{
	return host_yesno(user, &p->yn, p, NULL, threshold, false_alarms,
			  errbuf, errlen);
}

static int host_staircase(void *user, const struct qst_staircase_params *p,
			  double *threshold, int *false_alarms, char *errbuf,
			  size_t errlen)
{
	return host_yesno(user, &p->yn, NULL, p, threshold, false_alarms,
			  errbuf, errlen);
}

/* Not a DFNS test: no test start/end; an operator who ends it leaves the
 * script a nil (rig_ask recorded why). */
static int host_calibrate(void *user, const struct qst_calibrate_params *p,
			  double *result, char *errbuf, size_t errlen)
{
	struct session *s = user;
	s->resumable = true;
	int ret = qst_method_calibrate(&rig_ops, s, p, result);
	s->resumable = false;
	return host_error(s, ret < 0 ? ret : QST_OK, errbuf, errlen);
}

static int host_ask(void *user, const char *text, int kind, double *value,
		    char *errbuf, size_t errlen)
{
	struct session *s = user;
	struct qst_question q = { .test = s->current_test, .kind = kind, .text = text };
	struct qst_answer a;
	int ret = rig_ask(s, &q, &a);
	if (ret == QST_OK && a.not_done)
		ret = fail(s, QST_ERR_ABORTED, "the operator skipped the step: %s", a.reason);
	*value = a.value;
	return host_error(s, ret, errbuf, errlen);
}

static int host_wait(void *user, double seconds, char *errbuf, size_t errlen)
{
	struct session *s = user;
	int ret = qst_method_idle(&rig_ops, s,
				  qst_station_now(s->st) + qst_s_to_ns(seconds));
	return host_error(s, ret < 0 ? ret : QST_OK, errbuf, errlen);
}

static int host_sync(void *user, int code, int pulse_ms, char *errbuf,
		     size_t errlen)
{
	struct session *s = user;
	int ret = qst_station_sync(s->st, code, pulse_ms);
	if (ret < 0)
		ret = fail(s, ret, "trigger box refused code %d: %s", code,
			   qst_strerror(ret));
	return host_error(s, ret, errbuf, errlen);
}

static int host_not_done(void *user, int test, const char *reason,
			 char *errbuf, size_t errlen)
{
	struct session *s = user;
	(void)errbuf;
	(void)errlen;
	record_event(s, QST_EVC_TEST_NOT_DONE, QST_EVS_SCRIPT, test, NAN, reason);
	console_line(s, "%s not done: %s", qst_param_name(test), reason);
	return QST_OK;
}

static void host_log(void *user, const char *message)
{
	struct session *s = user;
	record_event(s, QST_EVC_LOG, QST_EVS_SCRIPT, NAN, NAN, message);
	console_line(s, "log: %s", message);
}

static int host_mark(void *user, const char *label, double value,
		     double value2, char *errbuf, size_t errlen)
{
	struct session *s = user;
	(void)errbuf;
	(void)errlen;
	record_event(s, QST_EVC_MARK, QST_EVS_SCRIPT, value, value2, label);
	return QST_OK;
}

/* The CPM conditioning stimulus (qst-domain.md §6.3) is the operator's:
 * the station tells them, records when it was asked for, and on the
 * simulated station lets the virtual participant feel it. */
static int host_condition(void *user, const struct qst_condition_params *p,
			  char *errbuf, size_t errlen)
{
	struct session *s = user;
	(void)errbuf;
	(void)errlen;
	record_event(s, QST_EVC_CONDITION, QST_EVS_SCRIPT, p->intensity,
		     p->on ? 1.0 : 0.0, p->what);
	if (p->on)
		console_line(s, "conditioning ON: apply %s now (intensity %.2f)",
			     p->what, p->intensity);
	else
		console_line(s, "conditioning OFF: end %s now", p->what);
	qst_station_participant_condition(s->st, p->intensity, p->on);
	return QST_OK;
}

static double host_now(void *user)
{
	return qst_ns_to_s(qst_station_now(((struct session *)user)->st));
}

/* The protocol keys, for "unknown key" messages. */
static void safety_keys(char *buf, size_t len)
{
	buf[0] = '\0';
	for (const struct qst_limit_key *k = qst_limit_keys(); k->name; k++)
		if (k->protocol)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 buf[0] ? ", " : "", k->name);
}

static int safety_merge(struct qst_thermal_limits *lim,
			const struct qst_safety_params *p, char *why,
			size_t whylen)
{
	for (int i = 0; i < p->n; i++) {
		const struct qst_limit_key *k = qst_limit_key_find(NULL, p->item[i].key);
		if (!k || !k->protocol) {
			char keys[400];
			safety_keys(keys, sizeof(keys));
			snprintf(why, whylen, "unknown key '%s' (allowed: %s)",
				 p->item[i].key, keys);
			return QST_ERR_ARG;
		}
		char msg[200];
		int ret = qst_limit_tighten(lim, k, p->item[i].value, "the station's",
					    msg, sizeof(msg));
		if (ret < 0) {
			snprintf(why, whylen, "%s%s", msg, ret == QST_ERR_LIMIT ?
				 "; a protocol can only tighten" : "");
			return ret;
		}
	}
	return qst_limits_consistent(lim, why, whylen);
}

/* qst.safety{}: before the first stimulus, so that the dose guard starts
 * from the tightened rule with nothing accounted under the old one. */
static int host_safety(void *user, const struct qst_safety_params *p,
		       char *errbuf, size_t errlen)
{
	struct session *s = user;
	struct qst_thermal_limits lim = s->own.limits;
	if (s->next_trial_id > 0 || s->current_test >= 0 ||
	    isfinite(s->sum->max_commanded_c))
		return host_error(s, fail(s, QST_ERR_SCRIPT, "call it before the first "
					  "test, not after stimuli were given"),
				  errbuf, errlen);
	char why[480];
	int ret = safety_merge(&lim, p, why, sizeof(why));
	if (ret < 0) /* a looser value is a safety refusal, the rest script errors */
		return host_error(s, fail(s, ret == QST_ERR_LIMIT ? ret : QST_ERR_SCRIPT,
					  "%s", why), errbuf, errlen);
	s->own.limits = lim;
	qst_dose_init(&s->dose, &lim);
	qst_station_tighten_vibration(s->st, lim.max_vpp);
	for (int i = 0; i < p->n; i++) {
		char msg[96];
		snprintf(msg, sizeof(msg), "qst.safety: %s = %g", p->item[i].key,
			 p->item[i].value);
		record_event(s, QST_EVC_LOG, QST_EVS_SCRIPT, p->item[i].value, NAN, msg);
	}
	ret = s->rec && qst_station_has(s->st, QST_ROLE_THERMAL) ?
		      qst_station_thermal_max(s->st, lim.max_c) : QST_OK;
	return host_error(s, ret < 0 ? fail(s, ret, "thermode refused its maximum: %s",
					    qst_strerror(ret)) : QST_OK, errbuf, errlen);
}

static int host_option(void *user, const char *key, double *value)
{
	struct session *s = user;
	for (int i = 0; i < s->own.n_options; i++) {
		struct qst_script_option *o = &s->own.options[i];
		if (strcmp(o->key, key) == 0) {
			o->read = true;
			*value = o->value;
			return 1;
		}
	}
	return 0;
}

/* An option the script never read is most likely a typo: the run would
 * go on with the script's default instead of the value meant. */
static int check_options_read(struct session *s)
{
	for (int i = 0; i < s->own.n_options; i++)
		if (!s->own.options[i].read) {
			snprintf(s->sum->error, sizeof(s->sum->error),
				 "option '%s' was given, but %s never reads it "
				 "(qst.option)", s->own.options[i].key,
				 s->cfg->protocol_path);
			return QST_ERR_SCRIPT;
		}
	return QST_OK;
}

static const struct qst_script_host script_host = {
	.safety = host_safety,
	.declare = host_declare,
	.section = host_section,
	.instruct = host_instruct,
	.limits = host_limits,
	.tsl = host_tsl,
	.wait = host_wait,
	.not_done = host_not_done,
	.log = host_log,
	.now = host_now,
	.series = host_series,
	.srf = host_srf,
	.wur = host_wur,
	.vdt = host_vdt,
	.ppt = host_ppt,
	.ask = host_ask,
	.pulse_train = host_pulse_train,
	.waveform = host_waveform,
	.option = host_option,
	.levels = host_levels,
	.staircase = host_staircase,
	.calibrate = host_calibrate,
	.sync = host_sync,
	.mark = host_mark,
	.condition = host_condition,
};

/* ----------------------------------------------------------- lifecycle */

static void finish(struct session *s, int result)
{
	struct qst_session_summary *m = s->sum;
	m->result = result;
	m->duration_ns = qst_station_now(s->st);
	if (result < 0) {
		/* Whatever stopped the script, no stimulus outlives it. */
		qst_station_thermal_abort(s->st);
		/* A refusal or fault was recorded where it happened, once. */
		if (!s->fault && result != QST_ERR_LIMIT)
			record_event(s, QST_EVC_SCRIPT_ERROR, QST_EVS_STATION,
				     result, NAN, m->error);
	}
	record_event(s, QST_EVC_SESSION_END, QST_EVS_STATION, result, NAN,
		     result < 0 ? m->error : "complete");
	/* The last records wait for disk space like a trial does. */
	int flushed = s->rec ? qst_recorder_flush(s->rec) : QST_OK;
	if (is_write_failure(flushed) && !s->fault &&
	    recording_failed(s, flushed, "the end of the session", false) < 0) {
		m->result = s->fault ? s->fault : flushed;
		snprintf(m->error, sizeof(m->error), "%s", s->err);
	}
	if (s->rec) {
		int ret = qst_recorder_close(s->rec, result == QST_OK);
		s->rec = NULL;
		if (ret < 0 && m->result == QST_OK) {
			m->result = ret;
			snprintf(m->error, sizeof(m->error),
				 "closing the session file failed: %s", qst_strerror(ret));
		}
	}
	if (s->cfg->console && s->cfg->console_is_tty)
		fputs("\r\033[K", s->cfg->console);
}

static void console_record(void *user, int code, double value, double value2,
			   const char *message)
{
	record_event(user, code, QST_EVS_OPERATOR, value, value2, message);
}

static int64_t console_now(void *user)
{
	return qst_station_now(((struct session *)user)->st);
}

int qst_session_run(const struct qst_session_config *cfg,
		    struct qst_session_summary *summary)
{
	memset(summary, 0, sizeof(*summary));
	summary->limits = cfg->limits;
	summary->min_commanded_c = INFINITY;
	summary->max_commanded_c = -INFINITY;
	summary->min_force_mn = INFINITY;
	summary->max_force_mn = -INFINITY;
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return QST_ERR_NOMEM;
	s->own = *cfg;
	s->cfg = &s->own;
	s->sum = summary;
	s->current_trial = -1;
	s->current_test = -1;
	s->neutral_c = 32.0;
	s->last_measured_c = NAN;
	s->held_key = -1;
	qst_dose_init(&s->dose, &cfg->limits);
	qst_rng_seed(&s->rng, cfg->station.seed ^ UINT64_C(0x5e55));
	int ret = qst_station_open(&cfg->station, &s->st, summary->error,
				   sizeof(summary->error));
	if (ret < 0) {
		summary->result = ret;
		free(s);
		return ret;
	}
	qst_pacer_init(&s->pacer, 0);
	if (cfg->realtime)
		qst_realtime_enter(&s->rt, QST_REALTIME_PRIORITY);
	if (cfg->operator_console) {
		cfg->operator_console->record = console_record;
		cfg->operator_console->now = console_now;
		cfg->operator_console->user = s;
	}
	ret = qst_script_run(cfg->protocol_text, cfg->protocol_len,
			     cfg->protocol_path, &cfg->script_limits,
			     &script_host, s, summary->error,
			     sizeof(summary->error));
	if (ret == QST_OK && !s->declared) {
		ret = QST_ERR_SCRIPT;
		snprintf(summary->error, sizeof(summary->error),
			 "%s never called qst.protocol{}", cfg->protocol_path);
	}
	if (ret == QST_OK && s->declared)
		ret = check_options_read(s);
	if (s->fault)
		ret = s->fault; /* the fault ended the run, not the script */
	summary->limits = s->own.limits;
	finish(s, ret);
	qst_realtime_leave(&s->rt);
	qst_station_close(s->st);
	ret = summary->result;
	free(s);
	return ret;
}
