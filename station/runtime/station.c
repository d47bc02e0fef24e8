/*
 * The station: one device per role behind its driver, one event queue,
 * and the I/O thread that stamps bytes on arrival (qst_station.h). The
 * simulated station puts each device's simulator on the far end of a byte
 * link, driven through the real drivers, with the virtual participant
 * between the plate and the keys; a station of real devices opens their
 * ports instead (station_real.c).
 */
#define _GNU_SOURCE /* ppoll */
#define LOG_PREFIX "station: "

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "qst_station.h"
#include "qst_supervisor.h"
#include "station_internal.h"

/* How long a device may take to identify itself after open. */
#define IDENTIFY_TIMEOUT_NS (3 * QST_NS_PER_S)
/* Real clock: the I/O thread never sleeps longer than this. */
#define IO_MAX_SLEEP_NS (2 * QST_NS_PER_MS)

/* The driver each simulated role's simulator speaks to. */
static const char *const sim_driver[QST_ROLE_COUNT] = {
	"tcs2", "xid", "mark10", "fgen", "evas", "triggerbox"
};
static const char *const role_names[QST_ROLE_COUNT] = {
	"thermal", "response", "pressure", "vibration", "rating", "sync"
};
static const enum qst_dev_class role_classes[QST_ROLE_COUNT] = {
	QST_DEV_THERMAL, QST_DEV_RESPONSE, QST_DEV_PRESSURE,
	QST_DEV_VIBRATION, QST_DEV_RATING, QST_DEV_SYNC
};

/* What the operator calls each device, in fault messages. */
static const char *const role_nouns[QST_ROLE_COUNT] = {
	"thermode", "response pad", "algometer", "vibration stimulator",
	"rating slider", "trigger box"
};

enum qst_dev_class qst_role_class(enum qst_role role)
{
	return (unsigned)role < QST_ROLE_COUNT ? role_classes[role] : 0;
}

bool qst_station_config_is_real(const struct qst_station_config *cfg)
{
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		const char *d = cfg->roles[r].driver;
		if (d[0] && strcmp(d, "sim") != 0 && strcmp(d, "none") != 0)
			return true;
	}
	return false;
}

bool qst_station_has(const struct qst_station *st, enum qst_role role)
{
	return (unsigned)role < QST_ROLE_COUNT && st->dev_open[role];
}

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
		/* The function generator and the trigger box have no
		 * simulated faults yet. */
		if (role == QST_ROLE_VIBRATION || role == QST_ROLE_SYNC ||
		    role == QST_ROLE_COUNT) {
			snprintf(err, errlen, "'%s': ROLE is thermal, response, "
				 "pressure or rating", spec);
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

void qst_station_sink_to_queue(const struct qst_event *ev, void *user)
{
	qst_evq_push(user, ev);
}

static int64_t next_due(struct qst_station *st)
{
	int64_t t = QST_SIM_NEVER;
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		t = st->poll_due[r] < t ? st->poll_due[r] : t;
	int64_t sims = st->rig ? qst_simrig_next_due(st->rig) : QST_SIM_NEVER;
	return sims < t ? sims : t;
}

/*
 * A lost link is reported once and not read again (a real clock's I/O
 * thread would otherwise report it every 2 ms). Bytes are stamped t_ns,
 * the moment the I/O thread woke for them, unless the transport knows
 * better (USB: the transfer's completion).
 */
static void drain_transport(struct qst_station *st, struct qst_dev *dev,
			    bool *lost, int64_t t_ns)
{
	uint8_t buf[4096];
	while (!*lost) {
		int64_t arrival_mono = 0;
		ssize_t n = qst_transport_read(dev->transport, buf, sizeof(buf),
					       &arrival_mono);
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
		int64_t t = t_ns;
		if (arrival_mono && st->clock.mode == QST_CLOCK_REAL)
			t = arrival_mono - st->clock.origin_mono_ns;
		dev->driver->receive(dev, buf, (size_t)n, t);
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

void qst_station_pump_locked(struct qst_station *st, int64_t t_ns)
{
	poll_devices(st, t_ns);
	if (st->rig)
		qst_simrig_step(st->rig, t_ns);
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		if (st->dev_open[r])
			drain_transport(st, &st->dev[r], &st->link_lost[r], t_ns);
	st->last_pump_ns = t_ns;
}

/* The descriptors the I/O thread waits on: the wake eventfd first, then
 * every open link that can be polled. Returns how many. */
static nfds_t gather_fds(struct qst_station *st, struct pollfd *fds)
{
	nfds_t n = 0;
	fds[n++] = (struct pollfd){ .fd = st->wake_fd, .events = POLLIN };
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		int fd = st->dev_open[r] && !st->link_lost[r] ?
				 qst_transport_fd(st->dev[r].transport) : -1;
		if (fd >= 0)
			fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	return n;
}

static void drain_wake(struct qst_station *st)
{
	uint64_t count;
	while (read(st->wake_fd, &count, sizeof(count)) > 0)
		;
}

/*
 * Real clock: block in ppoll on every link until bytes come, a device's
 * request or a simulator's message falls due, or a device operation wakes
 * the thread; the arrival time is read before anything is parsed.
 */
static void *io_thread_main(void *arg)
{
	struct qst_station *st = arg;
	struct pollfd fds[QST_ROLE_COUNT + 1];
	/* Above the session's pacing thread: an arrival is stamped before
	 * anything else runs. */
	struct qst_realtime rt;
	if (st->io_realtime)
		qst_realtime_enter(&rt, QST_REALTIME_PRIORITY + 1);
	while (!st->io_stop) {
		pthread_mutex_lock(&st->lock);
		nfds_t n = gather_fds(st, fds);
		int64_t due = next_due(st);
		pthread_mutex_unlock(&st->lock);
		int64_t wait = due - qst_clock_now(&st->clock);
		wait = wait < 0 ? 0 : wait > IO_MAX_SLEEP_NS ? IO_MAX_SLEEP_NS : wait;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)wait };
		int ready = ppoll(fds, n, &ts, NULL);
		int64_t arrival = qst_clock_now(&st->clock);
		if (ready < 0 && errno != EINTR)
			qst_warn("I/O thread: ppoll: %s", strerror(errno));
		if (ready > 0 && fds[0].revents)
			drain_wake(st);
		pthread_mutex_lock(&st->lock);
		qst_station_pump_locked(st, arrival);
		pthread_mutex_unlock(&st->lock);
	}
	return NULL;
}

void qst_station_wake_io(struct qst_station *st)
{
	uint64_t one = 1;
	if (st->wake_fd >= 0 && write(st->wake_fd, &one, sizeof(one)) < 0)
		qst_dbg("waking the I/O thread: %s", strerror(errno));
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
	qst_station_pump_locked(st, t);
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

int qst_station_attach(struct qst_station *st, enum qst_role role,
		       char *errbuf, size_t errlen)
{
	struct qst_dev *dev = &st->dev[role];
	dev->index = role;
	dev->sink.fn = qst_station_sink_to_queue;
	dev->sink.user = &st->queue;
	int ret = st->wirelog ? qst_wirelog_attach(st->wirelog, dev->transport,
						   role_names[role]) : QST_OK;
	if (ret < 0)
		snprintf(errbuf, errlen, "cannot tap the %s link: %s",
			 role_names[role], qst_strerror(ret));
	return ret;
}

static int open_sim_link(struct qst_station *st, enum qst_role role,
			 int *far_fd, char *errbuf, size_t errlen)
{
	struct qst_dev *dev = &st->dev[role];
	dev->driver = qst_driver_find(sim_driver[role]);
	if (!dev->driver) {
		snprintf(errbuf, errlen, "no driver named %s", sim_driver[role]);
		return QST_ERR_NOTFOUND;
	}
	char name[32];
	snprintf(name, sizeof(name), "%s-sim", sim_driver[role]);
	int ret = qst_transport_pipe_open(name, &dev->transport, far_fd);
	if (ret < 0) {
		snprintf(errbuf, errlen, "cannot open a link to the simulated %s: %s",
			 sim_driver[role], qst_strerror(ret));
		return ret;
	}
	return qst_station_attach(st, role, errbuf, errlen);
}

void qst_station_rating_capture(struct qst_station *st, bool on)
{
	if (!st->rig)
		return;
	pthread_mutex_lock(&st->lock);
	qst_simrig_rating_capture(st->rig, on);
	pthread_mutex_unlock(&st->lock);
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
	struct qst_simrig_config rc = { .seed = cfg->seed,
					.participant = cfg->participant,
					.probe_area_cm2 = st->probe_area_cm2 };
	memcpy(rc.faults, cfg->faults, sizeof(rc.faults));
	return qst_simrig_new(&rc, far_fd, 0, &st->rig, errbuf, errlen);
}

/* The devices that have not identified themselves yet, for the error. */
static bool all_ready(struct qst_station *st, char *pending, size_t len)
{
	bool ready = true;
	size_t used = 0;
	pending[0] = '\0';
	pthread_mutex_lock(&st->lock);
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		struct qst_dev *d = &st->dev[r];
		if (!st->dev_open[r] || d->driver->ready(d))
			continue;
		ready = false;
		int n = snprintf(pending + used, len - used, "%s%s (%s on %s)",
				 used ? ", " : "", role_nouns[r], d->driver->name,
				 d->transport->description);
		used = n > 0 && (size_t)n < len - used ? used + (size_t)n : used;
	}
	pthread_mutex_unlock(&st->lock);
	return ready;
}

/* Feed the drivers until every device has identified itself. */
static int await_identification(struct qst_station *st, char *errbuf,
				size_t errlen)
{
	char pending[256];
	int64_t deadline = qst_clock_now(&st->clock) + IDENTIFY_TIMEOUT_NS;
	while (!all_ready(st, pending, sizeof(pending))) {
		int64_t now = qst_clock_now(&st->clock);
		if (now >= deadline) {
			snprintf(errbuf, errlen, "no answer within %d s from %s: "
				 "check the port, the cable and that the device is "
				 "on and in computer-control mode",
				 (int)(IDENTIFY_TIMEOUT_NS / QST_NS_PER_S), pending);
			return QST_ERR_DEVICE;
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
		struct qst_dev *d = &st->dev[r];
		if (!d->driver)
			continue;
		pthread_mutex_lock(&st->lock);
		int ret = d->driver->open(d);
		if (ret == QST_OK) {
			/* A polled device's poll() re-asks unanswered
			 * identification, so it must run from the start. */
			st->dev_open[r] = true;
			if (d->driver->poll)
				st->poll_due[r] = qst_clock_now(&st->clock);
			qst_station_pump_locked(st, qst_clock_now(&st->clock));
		}
		pthread_mutex_unlock(&st->lock);
		if (ret < 0) {
			snprintf(errbuf, errlen, "cannot open %s on %s: %s",
				 d->driver->longname, d->transport->description,
				 qst_strerror(ret));
			return ret;
		}
	}
	return await_identification(st, errbuf, errlen);
}

struct qst_station *qst_station_new(const struct qst_station_config *cfg)
{
	struct qst_station *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	qst_clock_init(&st->clock, cfg->clock_mode);
	pthread_mutex_init(&st->lock, NULL);
	st->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	st->link_fd = -1;
	if (qst_evq_init(&st->queue) < 0 || st->wake_fd < 0) {
		qst_station_close(st);
		return NULL;
	}
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		st->poll_due[r] = QST_SIM_NEVER;
	st->probe_area_cm2 = cfg->probe_area_cm2 > 0 ? cfg->probe_area_cm2 : 1.0;
	struct qst_thermal_limits def;
	qst_thermal_limits_default(&def);
	st->max_vpp = cfg->max_vpp > 0 && cfg->max_vpp < def.max_vpp ?
			      cfg->max_vpp : def.max_vpp;
	st->wirelog = cfg->wirelog;
	st->io_realtime = cfg->realtime;
	qst_wirelog_set_clock(st->wirelog, station_clock, st);
	return st;
}

/* The algometer computes kPa from the mounted probe's area. */
static int set_probe_area(struct qst_station *st, char *errbuf, size_t errlen)
{
	if (!st->dev_open[QST_ROLE_PRESSURE])
		return QST_OK;
	struct qst_dev *alg = &st->dev[QST_ROLE_PRESSURE];
	pthread_mutex_lock(&st->lock);
	int ret = qst_dev_pressure(alg)->set_probe_area(alg, st->probe_area_cm2);
	pthread_mutex_unlock(&st->lock);
	if (ret < 0)
		snprintf(errbuf, errlen, "algometer refused its probe area: %s",
			 qst_strerror(ret));
	return ret;
}

int qst_station_start(struct qst_station *st, char *errbuf, size_t errlen)
{
	if (st->clock.mode == QST_CLOCK_REAL) {
		if (pthread_create(&st->io_thread, NULL, io_thread_main, st) != 0) {
			snprintf(errbuf, errlen, "cannot start the I/O thread");
			return QST_ERR;
		}
		st->io_running = true;
	}
	int ret = open_drivers(st, errbuf, errlen);
	if (ret == QST_OK)
		ret = set_probe_area(st, errbuf, errlen);
	for (int r = 0; ret == QST_OK && r < QST_ROLE_COUNT; r++)
		if (st->dev_open[r])
			qst_info("%s: %s %s %s (%s)", role_names[r],
				 st->dev[r].driver->name, st->dev[r].info.model,
				 st->dev[r].info.firmware,
				 st->dev[r].transport->description);
	return ret;
}

int qst_station_open_simulated(const struct qst_station_config *cfg,
			       struct qst_station **out, char *errbuf,
			       size_t errlen)
{
	struct qst_station *st = qst_station_new(cfg);
	if (!st)
		return QST_ERR_NOMEM;
	int ret = QST_OK;
	int far_fd[QST_ROLE_COUNT];
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		far_fd[r] = -1;
	for (int r = 0; r < QST_ROLE_COUNT && ret == QST_OK; r++)
		if (sim_driver[r])
			ret = open_sim_link(st, r, &far_fd[r], errbuf, errlen);
	if (ret == QST_OK)
		ret = create_simulators(st, cfg, far_fd, errbuf, errlen);
	if (ret == QST_OK)
		ret = qst_station_start(st, errbuf, errlen);
	if (ret < 0) {
		qst_station_close(st);
		return ret;
	}
	*out = st;
	return QST_OK;
}

int qst_station_open(const struct qst_station_config *cfg,
		     struct qst_station **out, char *errbuf, size_t errlen)
{
	if (qst_station_config_is_real(cfg))
		return qst_station_open_real(cfg, out, errbuf, errlen);
	return qst_station_open_simulated(cfg, out, errbuf, errlen);
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
	qst_simrig_free(st->rig);
	qst_evq_destroy(&st->queue);
	if (st->wake_fd >= 0)
		close(st->wake_fd);
	if (st->link_fd >= 0)
		close(st->link_fd);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/*
 * Run one device operation under the lock, then let the simulators see it
 * at once, so a command takes effect at the moment it was sent, and wake
 * the I/O thread, whose schedule (a poll, a trigger reset) may have moved.
 * A role the station has no device for answers QST_ERR_NOTFOUND.
 */
#define DEVICE_OP(st, role, call)                                      \
	do {                                                           \
		if (!(st)->dev_open[role])                             \
			return no_device((role));                      \
		pthread_mutex_lock(&(st)->lock);                       \
		int ret_ = (call);                                     \
		qst_station_pump_locked((st), qst_clock_now(&(st)->clock)); \
		pthread_mutex_unlock(&(st)->lock);                     \
		qst_station_wake_io(st);                               \
		return ret_;                                           \
	} while (0)

static int no_device(enum qst_role role)
{
	qst_warn("this station has no %s (roles.%s in the station file)",
		 role_nouns[role], role_names[role]);
	return QST_ERR_NOTFOUND;
}

int qst_station_thermal_ramp(struct qst_station *st, double target_c,
			     double rate_c_s, double hold_s,
			     double return_c_s)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	DEVICE_OP(st, QST_ROLE_THERMAL,
		  qst_dev_thermal(d)->ramp(d, target_c, rate_c_s, hold_s,
					   return_c_s));
}

int qst_station_thermal_waveform(struct qst_station *st,
				 const struct qst_wave_segment *seg, size_t n,
				 double return_c_s)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	if (st->dev_open[QST_ROLE_THERMAL] && !qst_dev_thermal(d)->waveform)
		return QST_ERR_UNSUPPORTED;
	DEVICE_OP(st, QST_ROLE_THERMAL,
		  qst_dev_thermal(d)->waveform(d, seg, n, return_c_s));
}

int qst_station_thermal_neutral(struct qst_station *st, double celsius)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	DEVICE_OP(st, QST_ROLE_THERMAL,
		  qst_dev_thermal(d)->set_neutral(d, celsius));
}

int qst_station_thermal_max(struct qst_station *st, double celsius)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	DEVICE_OP(st, QST_ROLE_THERMAL,
		  qst_dev_thermal(d)->set_max(d, celsius));
}

int qst_station_thermal_abort(struct qst_station *st)
{
	struct qst_dev *d = &st->dev[QST_ROLE_THERMAL];
	DEVICE_OP(st, QST_ROLE_THERMAL,
		  qst_dev_thermal(d)->abort(d));
}

double qst_station_thermal_as_played(struct qst_station *st, double value)
{
	if (!st->dev_open[QST_ROLE_THERMAL])
		return value;
	double q = qst_dev_thermal(&st->dev[QST_ROLE_THERMAL])->resolution;
	/* × 10 and / 10 as the driver does it (0.15 / 0.1 < 1.5 in binary). */
	double steps = q > 0 ? round(1.0 / q) : 0;
	return steps > 0 ? round(value * steps) / steps : value;
}

int qst_station_response_reset(struct qst_station *st)
{
	struct qst_dev *d = &st->dev[QST_ROLE_RESPONSE];
	DEVICE_OP(st, QST_ROLE_RESPONSE, qst_dev_response(d)->reset_timer(d));
}

/* A participant behind real ports hears the instruction over its link;
 * lost instructions only make it answer wrongly, so failures are logged. */
static void tell_linked_participant(struct qst_station *st,
				    const struct qst_task *task)
{
	char line[128];
	int n = qst_task_format(task, line, sizeof(line));
	if (st->link_fd >= 0 && n > 0 && send(st->link_fd, line, (size_t)n, 0) < 0)
		qst_warn("participant link: %s", strerror(errno));
}

void qst_station_participant_task(struct qst_station *st,
				  const struct qst_task *task)
{
	if (!st->rig) {
		tell_linked_participant(st, task);
		return;
	}
	pthread_mutex_lock(&st->lock);
	qst_participant_set_task(qst_simrig_participant(st->rig), task,
				 qst_clock_now(&st->clock));
	pthread_mutex_unlock(&st->lock);
}

void qst_station_participant_condition(struct qst_station *st,
				       double intensity, bool on)
{
	if (!st->rig)
		return;
	pthread_mutex_lock(&st->lock);
	qst_participant_condition(qst_simrig_participant(st->rig),
				  qst_clock_now(&st->clock), intensity, on);
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
	DEVICE_OP(st, QST_ROLE_PRESSURE, pressure_ops(st)->zero(d));
}

int qst_station_pressure_rate(struct qst_station *st, double hz)
{
	struct qst_dev *d = &st->dev[QST_ROLE_PRESSURE];
	if (!st->dev_open[QST_ROLE_PRESSURE])
		return no_device(QST_ROLE_PRESSURE);
	pthread_mutex_lock(&st->lock);
	int ret = pressure_ops(st)->set_rate(d, hz);
	/* Start (or stop) asking now rather than at the old schedule. */
	st->poll_due[QST_ROLE_PRESSURE] = qst_clock_now(&st->clock);
	qst_station_pump_locked(st, qst_clock_now(&st->clock));
	pthread_mutex_unlock(&st->lock);
	qst_station_wake_io(st);
	return ret;
}

int qst_station_vibration(struct qst_station *st, double hz,
			  double amplitude_vpp, bool on)
{
	struct qst_dev *d = &st->dev[QST_ROLE_VIBRATION];
	char why[128];
	if (!st->dev_open[QST_ROLE_VIBRATION])
		return no_device(QST_ROLE_VIBRATION);
	pthread_mutex_lock(&st->lock);
	if (on && qst_supervisor_check_vibration(st->max_vpp, amplitude_vpp, why,
						 sizeof(why)) < 0) {
		pthread_mutex_unlock(&st->lock);
		return QST_ERR_LIMIT;
	}
	int ret = on ? vibration_ops(st)->set_sine(d, hz, amplitude_vpp) : QST_OK;
	if (ret == QST_OK)
		ret = vibration_ops(st)->output(d, on);
	qst_station_pump_locked(st, qst_clock_now(&st->clock));
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

int qst_station_sync(struct qst_station *st, int code, int pulse_ms)
{
	struct qst_dev *d = &st->dev[QST_ROLE_SYNC];
	if (code < 1 || code > 255 || pulse_ms < 1)
		return QST_ERR_ARG;
	if (!st->dev_open[QST_ROLE_SYNC])
		return no_device(QST_ROLE_SYNC);
	pthread_mutex_lock(&st->lock);
	int ret = qst_dev_sync(d)->send(d, (uint8_t)code, pulse_ms);
	/* The driver writes the code from its poll(): due now. */
	st->poll_due[QST_ROLE_SYNC] = qst_clock_now(&st->clock);
	qst_station_pump_locked(st, qst_clock_now(&st->clock));
	pthread_mutex_unlock(&st->lock);
	qst_station_wake_io(st);
	return ret;
}

int qst_station_rating_scale(struct qst_station *st, int raw_full_scale)
{
	struct qst_dev *d = &st->dev[QST_ROLE_RATING];
	DEVICE_OP(st, QST_ROLE_RATING,
		  qst_dev_rating(d)->set_full_scale(d, raw_full_scale));
}

/* The simulated operator's hand: only the simulated algometer has one. */
void qst_station_hand_press(struct qst_station *st, double rate_kpa_s)
{
	if (!st->rig)
		return;
	pthread_mutex_lock(&st->lock);
	qst_simrig_hand_press(st->rig, qst_clock_now(&st->clock), rate_kpa_s);
	pthread_mutex_unlock(&st->lock);
}

void qst_station_hand_release(struct qst_station *st)
{
	if (!st->rig)
		return;
	pthread_mutex_lock(&st->lock);
	qst_simrig_hand_release(st->rig, qst_clock_now(&st->clock));
	pthread_mutex_unlock(&st->lock);
}

double qst_station_participant_answer(struct qst_station *st, int test,
				      int stimulus, double value, int kind)
{
	if (!st->rig)
		return NAN;
	pthread_mutex_lock(&st->lock);
	double a = qst_participant_answer(qst_simrig_participant(st->rig), test,
					  stimulus,
					  value, kind);
	pthread_mutex_unlock(&st->lock);
	return a;
}
