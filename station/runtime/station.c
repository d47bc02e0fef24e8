/*
 * The simulated station: a TCS II thermode and a Cedrus XID pad, each on
 * the far end of a byte link, driven through the real drivers, and the
 * virtual participant between the plate and the keys (qst_station.h).
 */
#define LOG_PREFIX "station: "

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qst_station.h"
#include "qst_supervisor.h"

/* How long a device may take to identify itself after open. */
#define IDENTIFY_TIMEOUT_NS (3 * QST_NS_PER_S)
/* Real clock: the I/O thread never sleeps longer than this. */
#define IO_MAX_SLEEP_NS (2 * QST_NS_PER_MS)

static const char *const role_driver[QST_ROLE_COUNT] = { "tcs2", "xid",
							  "mark10", "fgen" };
static const char *const role_names[QST_ROLE_COUNT] = {
	"thermal", "response", "pressure", "vibration"
};

/* What the operator calls each device, in fault messages. */
static const char *const role_nouns[QST_ROLE_COUNT] = {
	"thermode", "response pad", "algometer", "vibration stimulator"
};

const char *qst_role_name(enum qst_role role)
{
	return (unsigned)role < QST_ROLE_COUNT ? role_names[role] : "?";
}

const char *qst_role_noun(enum qst_role role)
{
	return (unsigned)role < QST_ROLE_COUNT ? role_nouns[role] : "device";
}

int qst_station_parse_fault(struct qst_station_config *cfg, const char *spec,
			    char *err, size_t errlen)
{
	if (!cfg || !spec)
		return QST_ERR_ARG;
	const char *at = strchr(spec, '@');
	const char *colon = strchr(spec, ':');
	int role = QST_ROLE_THERMAL;
	if (at && colon && colon < at) {
		size_t n = (size_t)(colon - spec);
		for (role = 0; role < QST_ROLE_COUNT; role++)
			if (strlen(role_names[role]) == n &&
			    strncmp(spec, role_names[role], n) == 0)
				break;
		/* The function generator has no simulated faults yet. */
		if (role == QST_ROLE_VIBRATION || role == QST_ROLE_COUNT) {
			snprintf(err, errlen, "'%s': ROLE is thermal, response or "
				 "pressure", spec);
			return QST_ERR_ARG;
		}
		spec = colon + 1;
	}
	struct qst_sim_fault f;
	int ret = qst_sim_fault_parse(spec, &f, err, errlen);
	if (ret == QST_OK && f.kind == QST_SIM_FAULT_DIVERGE &&
	    role != QST_ROLE_THERMAL) {
		snprintf(err, errlen, "'%s': only the thermode can diverge", spec);
		ret = QST_ERR_ARG;
	}
	if (ret == QST_OK)
		cfg->faults[role] = f;
	return ret;
}

static void sink_to_queue(const struct qst_event *ev, void *user)
{
	qst_evq_push(user, ev);
}

static int press_on_pad(void *user, int64_t t_ns, int key, bool pressed)
{
	return qst_xid_sim_schedule(user, t_ns, key, pressed);
}

static int64_t next_due(struct qst_station *st)
{
	int64_t due[] = {
		qst_tcs2_sim_next_due(st->tcs2_sim),
		qst_xid_sim_next_due(st->xid_sim),
		qst_mark10_sim_next_due(st->mark10_sim),
		qst_fgen_sim_next_due(st->fgen_sim),
	};
	int64_t t = QST_SIM_NEVER;
	for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++)
		t = due[i] < t ? due[i] : t;
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		t = st->poll_due[r] < t ? st->poll_due[r] : t;
	return t;
}

/* A lost link is reported once and not read again (a real clock's I/O
 * thread would otherwise report it every 2 ms). */
static void drain_transport(struct qst_dev *dev, bool *lost, int64_t t_ns)
{
	uint8_t buf[4096];
	while (!*lost) {
		ssize_t n = qst_transport_read(dev->transport, buf, sizeof(buf), NULL);
		if (n < 0) {
			struct qst_event ev = { .t_ns = t_ns,
						.type = QST_EV_DEVICE_FAULT };
			snprintf(ev.u.text, sizeof(ev.u.text), "%s link lost (%s)",
				 role_nouns[dev->index], qst_strerror((int)n));
			qst_dev_emit(dev, &ev);
			*lost = true;
			return;
		}
		if (n == 0)
			return;
		dev->driver->receive(dev, buf, (size_t)n, t_ns);
	}
}

/* Devices that must be asked get their request when it is due. */
static void poll_devices(struct qst_station *st, int64_t t_ns)
{
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		struct qst_dev *d = &st->dev[r];
		if (st->dev_open[r] && d->driver->poll && t_ns >= st->poll_due[r])
			st->poll_due[r] = d->driver->poll(d, t_ns);
	}
}

/*
 * Bring every simulated part to time t: the thermode first, so the
 * participant feels the plate as it is at t, then the other stimulators,
 * then read what the devices said. Caller holds st->lock.
 */
static void pump_locked(struct qst_station *st, int64_t t_ns)
{
	poll_devices(st, t_ns);
	qst_tcs2_sim_step(st->tcs2_sim, t_ns);
	qst_participant_feel(st->participant, t_ns,
			     qst_tcs2_sim_plate_c(st->tcs2_sim));
	qst_mark10_sim_step(st->mark10_sim, t_ns);
	/* 1 N/cm² = 10 kPa (qst-domain.md §2.9) */
	qst_participant_feel_pressure(st->participant, t_ns,
				      qst_mark10_sim_force_n(st->mark10_sim) /
					      st->probe_area_cm2 * 10.0);
	qst_fgen_sim_step(st->fgen_sim, t_ns);
	qst_xid_sim_step(st->xid_sim, t_ns);
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		if (st->dev_open[r])
			drain_transport(&st->dev[r], &st->link_lost[r], t_ns);
	st->last_pump_ns = t_ns;
}

static void *io_thread_main(void *arg)
{
	struct qst_station *st = arg;
	while (!st->io_stop) {
		int64_t now = qst_clock_now(&st->clock);
		pthread_mutex_lock(&st->lock);
		pump_locked(st, now);
		int64_t due = next_due(st);
		pthread_mutex_unlock(&st->lock);
		int64_t wake = now + IO_MAX_SLEEP_NS;
		if (due < wake)
			wake = due;
		qst_clock_sleep_until(&st->clock, wake);
	}
	return NULL;
}

/* Virtual clock: jump to the next thing that happens, up to deadline. */
static void advance_virtual(struct qst_station *st, int64_t deadline_ns)
{
	int64_t now = qst_clock_now(&st->clock);
	int64_t t = next_due(st);
	if (t > deadline_ns)
		t = deadline_ns;
	if (t <= now)
		t = st->last_pump_ns == now ? now + 1000 : now;
	if (t > deadline_ns)
		t = deadline_ns;
	qst_clock_advance_to(&st->clock, t);
	pthread_mutex_lock(&st->lock);
	pump_locked(st, t);
	pthread_mutex_unlock(&st->lock);
}

int qst_station_next_event(struct qst_station *st, int64_t deadline_ns,
			   struct qst_event *ev)
{
	for (;;) {
		if (qst_evq_pop(&st->queue, ev))
			return 1;
		int64_t now = qst_clock_now(&st->clock);
		if (now >= deadline_ns)
			return 0;
		if (st->clock.mode == QST_CLOCK_VIRTUAL) {
			advance_virtual(st, deadline_ns);
		} else {
			int64_t mono = st->clock.origin_mono_ns + deadline_ns;
			if (qst_evq_pop_wait(&st->queue, mono, ev))
				return 1;
		}
	}
}

int64_t qst_station_now(struct qst_station *st)
{
	return qst_clock_now(&st->clock);
}

static int open_device(struct qst_station *st, enum qst_role role,
		       int *far_fd, char *errbuf, size_t errlen)
{
	struct qst_dev *dev = &st->dev[role];
	dev->driver = qst_driver_find(role_driver[role]);
	if (!dev->driver) {
		snprintf(errbuf, errlen, "no driver named %s", role_driver[role]);
		return QST_ERR_NOTFOUND;
	}
	char name[32];
	snprintf(name, sizeof(name), "%s-sim", role_driver[role]);
	int ret = qst_transport_pipe_open(name, &dev->transport, far_fd);
	if (ret < 0) {
		snprintf(errbuf, errlen, "cannot open a link to the simulated %s: %s",
			 role_driver[role], qst_strerror(ret));
		return ret;
	}
	dev->index = role;
	dev->sink.fn = sink_to_queue;
	dev->sink.user = &st->queue;
	if (st->wirelog)
		ret = qst_wirelog_attach(st->wirelog, dev->transport,
					 role_names[role]);
	if (ret < 0)
		snprintf(errbuf, errlen, "cannot tap the %s link: %s",
			 role_names[role], qst_strerror(ret));
	return ret;
}

/* Each simulator's fault, with its own seed drawn from the station's. */
static int arm_faults(struct qst_station *st,
		      const struct qst_station_config *cfg)
{
	int ret = QST_OK;
	for (int r = 0; r < QST_ROLE_COUNT && ret == QST_OK; r++) {
		struct qst_sim_fault f = cfg->faults[r];
		if (f.kind == QST_SIM_FAULT_NONE)
			continue;
		f.seed = cfg->seed ^ (UINT64_C(0xfa17) << (8 * r));
		if (r == QST_ROLE_THERMAL)
			ret = qst_tcs2_sim_set_fault(st->tcs2_sim, &f);
		else if (r == QST_ROLE_RESPONSE)
			ret = qst_xid_sim_set_fault(st->xid_sim, &f);
		else if (r == QST_ROLE_PRESSURE)
			ret = qst_mark10_sim_set_fault(st->mark10_sim, &f);
		else
			ret = QST_ERR_UNSUPPORTED;
	}
	return ret;
}

static int64_t station_clock(void *user)
{
	return qst_clock_now(&((struct qst_station *)user)->clock);
}

static int create_simulators(struct qst_station *st,
			     const struct qst_station_config *cfg,
			     const int far_fd[QST_ROLE_COUNT], char *errbuf,
			     size_t errlen)
{
	struct qst_tcs2_sim_config tcfg = {
		.initial_c = 32.0, .max_heat_c_s = 70.0, .max_cool_c_s = 40.0,
		.lag_s = 0.05, .noise_sd_c = 0.02, .seed = cfg->seed ^ 0x7c52,
	};
	snprintf(tcfg.serial, sizeof(tcfg.serial), "SIM-0001");
	int ret = qst_tcs2_sim_new(far_fd[QST_ROLE_THERMAL], &tcfg, 0,
				   &st->tcs2_sim);
	if (ret == QST_OK)
		ret = qst_xid_sim_new(far_fd[QST_ROLE_RESPONSE], 0, &st->xid_sim);
	struct qst_mark10_sim_config mcfg = { .capacity_n = 500.0, .noise_n = 0.05,
					      .seed = cfg->seed ^ 0x3a10 };
	snprintf(mcfg.serial, sizeof(mcfg.serial), "SIM-M10-0001");
	if (ret == QST_OK)
		ret = qst_mark10_sim_new(far_fd[QST_ROLE_PRESSURE], &mcfg, 0,
					 &st->mark10_sim);
	if (ret == QST_OK)
		ret = qst_fgen_sim_new(far_fd[QST_ROLE_VIBRATION], 0, &st->fgen_sim);
	if (ret == QST_OK)
		ret = qst_participant_new(&cfg->participant, cfg->seed,
					  press_on_pad, st->xid_sim,
					  &st->participant);
	if (ret == QST_OK)
		ret = arm_faults(st, cfg);
	if (ret < 0)
		snprintf(errbuf, errlen, "cannot start the simulated station: %s",
			 qst_strerror(ret));
	return ret;
}

static bool all_ready(struct qst_station *st)
{
	bool ready = true;
	pthread_mutex_lock(&st->lock);
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		ready = ready && st->dev[r].driver->ready(&st->dev[r]);
	pthread_mutex_unlock(&st->lock);
	return ready;
}

/* Feed the drivers until both have identified themselves. */
static int await_identification(struct qst_station *st, char *errbuf,
				size_t errlen)
{
	int64_t deadline = qst_clock_now(&st->clock) + IDENTIFY_TIMEOUT_NS;
	while (!all_ready(st)) {
		int64_t now = qst_clock_now(&st->clock);
		if (now >= deadline) {
			snprintf(errbuf, errlen,
				 "devices did not identify within %d s",
				 (int)(IDENTIFY_TIMEOUT_NS / QST_NS_PER_S));
			return QST_ERR_TIMEOUT;
		}
		int64_t step = now + 10 * QST_NS_PER_MS;
		if (st->clock.mode == QST_CLOCK_VIRTUAL)
			advance_virtual(st, step);
		else
			qst_clock_sleep_until(&st->clock, step);
	}
	/* Identification replies are not session events. */
	struct qst_event ev;
	while (qst_evq_pop(&st->queue, &ev))
		;
	return QST_OK;
}

static int open_drivers(struct qst_station *st, char *errbuf, size_t errlen)
{
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		pthread_mutex_lock(&st->lock);
		int ret = st->dev[r].driver->open(&st->dev[r]);
		if (ret == QST_OK) {
			/* A polled device's poll() re-asks unanswered
			 * identification, so it must run from the start. */
			st->dev_open[r] = true;
			if (st->dev[r].driver->poll)
				st->poll_due[r] = qst_clock_now(&st->clock);
			pump_locked(st, qst_clock_now(&st->clock));
		}
		pthread_mutex_unlock(&st->lock);
		if (ret < 0) {
			snprintf(errbuf, errlen, "cannot open %s: %s",
				 st->dev[r].driver->longname, qst_strerror(ret));
			return ret;
		}
	}
	return await_identification(st, errbuf, errlen);
}

int qst_station_open_simulated(const struct qst_station_config *cfg,
			       struct qst_station **out, char *errbuf,
			       size_t errlen)
{
	struct qst_station *st = calloc(1, sizeof(*st));
	if (!st)
		return QST_ERR_NOMEM;
	qst_clock_init(&st->clock, cfg->clock_mode);
	pthread_mutex_init(&st->lock, NULL);
	int ret = qst_evq_init(&st->queue);
	int far_fd[QST_ROLE_COUNT];
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		far_fd[r] = -1;
		st->poll_due[r] = QST_SIM_NEVER;
	}
	st->probe_area_cm2 = cfg->probe_area_cm2 > 0 ? cfg->probe_area_cm2 : 1.0;
	struct qst_thermal_limits def;
	qst_thermal_limits_default(&def);
	st->max_vpp = cfg->max_vpp > 0 && cfg->max_vpp < def.max_vpp ?
			      cfg->max_vpp : def.max_vpp;
	st->wirelog = cfg->wirelog;
	qst_wirelog_set_clock(st->wirelog, station_clock, st);
	for (int r = 0; r < QST_ROLE_COUNT && ret == QST_OK; r++)
		ret = open_device(st, r, &far_fd[r], errbuf, errlen);
	if (ret == QST_OK)
		ret = create_simulators(st, cfg, far_fd, errbuf, errlen);
	if (ret == QST_OK && cfg->clock_mode == QST_CLOCK_REAL) {
		if (pthread_create(&st->io_thread, NULL, io_thread_main, st) == 0)
			st->io_running = true;
		else
			ret = QST_ERR;
	}
	if (ret == QST_OK)
		ret = open_drivers(st, errbuf, errlen);
	if (ret < 0) {
		qst_station_close(st);
		return ret;
	}
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		qst_info("simulated station: %s %s (%s)", role_driver[r],
			 st->dev[r].info.model, st->dev[r].transport->description);
	struct qst_dev *alg = &st->dev[QST_ROLE_PRESSURE];
	const struct qst_pressure_ops *pops = alg->driver->class_ops;
	pthread_mutex_lock(&st->lock);
	ret = pops->set_probe_area(alg, st->probe_area_cm2);
	pthread_mutex_unlock(&st->lock);
	if (ret < 0) {
		snprintf(errbuf, errlen, "algometer refused its probe area: %s",
			 qst_strerror(ret));
		qst_station_close(st);
		return ret;
	}
	*out = st;
	return QST_OK;
}

void qst_station_close(struct qst_station *st)
{
	if (!st)
		return;
	if (st->io_running) {
		st->io_stop = true;
		pthread_join(st->io_thread, NULL);
	}
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		if (st->dev_open[r] && st->dev[r].driver->close)
			st->dev[r].driver->close(&st->dev[r]);
		if (st->dev[r].transport)
			qst_transport_close(st->dev[r].transport);
	}
	/* The log outlives the station; its times came from this clock. */
	qst_wirelog_set_clock(st->wirelog, NULL, NULL);
	qst_participant_free(st->participant);
	qst_xid_sim_free(st->xid_sim);
	qst_mark10_sim_free(st->mark10_sim);
	qst_fgen_sim_free(st->fgen_sim);
	qst_tcs2_sim_free(st->tcs2_sim);
	qst_evq_destroy(&st->queue);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* Run one device operation under the lock, then let the simulators see it
 * at once, so a command takes effect at the moment it was sent. */
#define DEVICE_OP(st, call)                                     \
	do {                                                            \
		pthread_mutex_lock(&(st)->lock);                        \
		int ret_ = (call);                                      \
		pump_locked((st), qst_clock_now(&(st)->clock));         \
		pthread_mutex_unlock(&(st)->lock);                      \
		return ret_;                                            \
	} while (0)

int qst_station_thermal_ramp(struct qst_station *st, double target_c,
			     double rate_c_s, double hold_s,
			     double return_c_s)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	DEVICE_OP(st,
		  qst_dev_thermal(d)->ramp(d, target_c, rate_c_s, hold_s,
					   return_c_s));
}

int qst_station_thermal_waveform(struct qst_station *st,
				 const struct qst_wave_segment *seg, size_t n,
				 double return_c_s)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	if (!qst_dev_thermal(d)->waveform)
		return QST_ERR_UNSUPPORTED;
	DEVICE_OP(st, qst_dev_thermal(d)->waveform(d, seg, n, return_c_s));
}

int qst_station_thermal_neutral(struct qst_station *st, double celsius)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	DEVICE_OP(st, qst_dev_thermal(d)->set_neutral(d, celsius));
}

int qst_station_thermal_max(struct qst_station *st, double celsius)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	DEVICE_OP(st, qst_dev_thermal(d)->set_max(d, celsius));
}

int qst_station_thermal_abort(struct qst_station *st)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	DEVICE_OP(st, qst_dev_thermal(d)->abort(d));
}

double qst_station_thermal_as_played(struct qst_station *st, double value)
{
	double q = qst_dev_thermal(&st->dev[QST_ROLE_THERMAL])->resolution;
	/* × 10 and / 10 as the driver does it (0.15 / 0.1 < 1.5 in binary). */
	double steps = q > 0 ? round(1.0 / q) : 0;
	return steps > 0 ? round(value * steps) / steps : value;
}

int qst_station_response_reset(struct qst_station *st)
{
	struct qst_dev *d = &st->dev[QST_ROLE_RESPONSE];
	DEVICE_OP(st, qst_dev_response(d)->reset_timer(d));
}

void qst_station_participant_task(struct qst_station *st,
				  const struct qst_task *task)
{
	pthread_mutex_lock(&st->lock);
	qst_participant_set_task(st->participant, task,
				 qst_clock_now(&st->clock));
	pthread_mutex_unlock(&st->lock);
}

static const struct qst_pressure_ops *pressure_ops(struct qst_station *st)
{
	return st->dev[QST_ROLE_PRESSURE].driver->class_ops;
}

static const struct qst_vibration_ops *vibration_ops(struct qst_station *st)
{
	return st->dev[QST_ROLE_VIBRATION].driver->class_ops;
}

int qst_station_pressure_zero(struct qst_station *st)
{
	struct qst_dev *d = &st->dev[QST_ROLE_PRESSURE];
	DEVICE_OP(st, pressure_ops(st)->zero(d));
}

int qst_station_pressure_rate(struct qst_station *st, double hz)
{
	struct qst_dev *d = &st->dev[QST_ROLE_PRESSURE];
	pthread_mutex_lock(&st->lock);
	int ret = pressure_ops(st)->set_rate(d, hz);
	/* Start (or stop) asking now rather than at the old schedule. */
	st->poll_due[QST_ROLE_PRESSURE] = qst_clock_now(&st->clock);
	pump_locked(st, qst_clock_now(&st->clock));
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int qst_station_vibration(struct qst_station *st, double hz,
			  double amplitude_vpp, bool on)
{
	struct qst_dev *d = &st->dev[QST_ROLE_VIBRATION];
	char why[128];
	pthread_mutex_lock(&st->lock);
	if (on && qst_supervisor_check_vibration(st->max_vpp, amplitude_vpp, why,
						 sizeof(why)) < 0) {
		pthread_mutex_unlock(&st->lock);
		return QST_ERR_LIMIT;
	}
	int ret = on ? vibration_ops(st)->set_sine(d, hz, amplitude_vpp) : QST_OK;
	if (ret == QST_OK)
		ret = vibration_ops(st)->output(d, on);
	pump_locked(st, qst_clock_now(&st->clock));
	pthread_mutex_unlock(&st->lock);
	return ret;
}

void qst_station_tighten_vibration(struct qst_station *st, double max_vpp)
{
	pthread_mutex_lock(&st->lock);
	if (max_vpp < st->max_vpp)
		st->max_vpp = max_vpp;
	pthread_mutex_unlock(&st->lock);
}

void qst_station_hand_press(struct qst_station *st, double rate_kpa_s)
{
	pthread_mutex_lock(&st->lock);
	/* kPa/s over the probe area back to N/s: 10 kPa = 1 N/cm². */
	qst_mark10_sim_hand_press(st->mark10_sim, qst_clock_now(&st->clock),
				  rate_kpa_s * st->probe_area_cm2 / 10.0);
	pthread_mutex_unlock(&st->lock);
}

void qst_station_hand_release(struct qst_station *st)
{
	pthread_mutex_lock(&st->lock);
	qst_mark10_sim_hand_release(st->mark10_sim, qst_clock_now(&st->clock));
	pthread_mutex_unlock(&st->lock);
}

double qst_station_participant_answer(struct qst_station *st, int test,
				      int stimulus, double value, int kind)
{
	pthread_mutex_lock(&st->lock);
	double a = qst_participant_answer(st->participant, test, stimulus,
					  value, kind);
	pthread_mutex_unlock(&st->lock);
	return a;
}
