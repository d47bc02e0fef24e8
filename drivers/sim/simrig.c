/*
 * The simulated rig: the station's simulators and the virtual participant
 * between the plate, the probe, the keys and the slider (qst_simrig.h).
 */
#define _GNU_SOURCE /* ppoll */
#define LOG_PREFIX "simrig: "

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qst_simrig.h"

/* Serving real ports: never sleep longer than this between steps. */
#define SERVE_MAX_SLEEP_NS (2 * QST_NS_PER_MS)

struct qst_simrig {
	struct qst_tcs2_sim *tcs2;
	struct qst_xid_sim *xid;
	struct qst_mark10_sim *mark10;
	struct qst_fgen_sim *fgen;
	struct qst_evas_sim *evas;
	struct qst_trigger_sim *trigger;
	struct qst_participant *participant;
	double probe_area_cm2;
	bool rating_capture;
	int fds[QST_SIMRIG_SLOTS];
	int task_fd;    /* the participant link, or -1 */
};

static int press_on_pad(void *user, int64_t t_ns, int key, bool pressed)
{
	return qst_xid_sim_schedule(user, t_ns, key, pressed);
}

/* The slider: the participant's hand on it while ratings are captured,
 * untouched (no lines) otherwise, so sessions that do not rate
 * continuously carry no stream. */
static double slider_position(void *user, int64_t t_ns)
{
	struct qst_simrig *rig = user;
	if (!rig->rating_capture)
		return NAN;
	return qst_participant_rating(rig->participant, t_ns);
}

static int new_stimulators(struct qst_simrig *rig,
			   const struct qst_simrig_config *cfg,
			   const int fds[QST_SIMRIG_SLOTS], int64_t t0)
{
	struct qst_tcs2_sim_config tcfg = {
		.initial_c = 32.0, .max_heat_c_s = 70.0, .max_cool_c_s = 40.0,
		.lag_s = 0.05, .noise_sd_c = 0.02, .seed = cfg->seed ^ 0x7c52,
	};
	snprintf(tcfg.serial, sizeof(tcfg.serial), "SIM-0001");
	int ret = qst_tcs2_sim_new(fds[QST_SIMRIG_THERMAL], &tcfg, t0, &rig->tcs2);
	struct qst_mark10_sim_config mcfg = { .capacity_n = 500.0, .noise_n = 0.05,
					      .seed = cfg->seed ^ 0x3a10 };
	snprintf(mcfg.serial, sizeof(mcfg.serial), "SIM-M10-0001");
	if (ret == QST_OK && fds[QST_SIMRIG_PRESSURE] >= 0)
		ret = qst_mark10_sim_new(fds[QST_SIMRIG_PRESSURE], &mcfg, t0,
					 &rig->mark10);
	if (ret == QST_OK && fds[QST_SIMRIG_VIBRATION] >= 0)
		ret = qst_fgen_sim_new(fds[QST_SIMRIG_VIBRATION], t0, &rig->fgen);
	struct qst_evas_sim_config ecfg = { .rating = slider_position,
					    .user = rig };
	if (ret == QST_OK && fds[QST_SIMRIG_RATING] >= 0)
		ret = qst_evas_sim_new(fds[QST_SIMRIG_RATING], &ecfg, t0,
				       &rig->evas);
	if (ret == QST_OK && fds[QST_SIMRIG_SYNC] >= 0)
		ret = qst_trigger_sim_new(fds[QST_SIMRIG_SYNC], t0, &rig->trigger);
	return ret;
}

/* Each simulator's fault, with its own seed drawn from the rig's. */
static int arm_faults(struct qst_simrig *rig,
		      const struct qst_simrig_config *cfg)
{
	int ret = QST_OK;
	for (int s = 0; s < QST_SIMRIG_SLOTS && ret == QST_OK; s++) {
		struct qst_sim_fault f = cfg->faults[s];
		if (f.kind == QST_SIM_FAULT_NONE)
			continue;
		f.seed = cfg->seed ^ (UINT64_C(0xfa17) << (8 * s));
		if (s == QST_SIMRIG_THERMAL)
			ret = qst_tcs2_sim_set_fault(rig->tcs2, &f);
		else if (s == QST_SIMRIG_RESPONSE)
			ret = qst_xid_sim_set_fault(rig->xid, &f);
		else if (s == QST_SIMRIG_PRESSURE && rig->mark10)
			ret = qst_mark10_sim_set_fault(rig->mark10, &f);
		else if (s == QST_SIMRIG_RATING && rig->evas)
			ret = qst_evas_sim_set_fault(rig->evas, &f);
		else
			ret = QST_ERR_UNSUPPORTED;
	}
	return ret;
}

int qst_simrig_new(const struct qst_simrig_config *cfg,
		   const int fds[QST_SIMRIG_SLOTS], int64_t t0_ns,
		   struct qst_simrig **out, char *err, size_t errlen)
{
	if (!cfg || !fds || !out || fds[QST_SIMRIG_THERMAL] < 0 ||
	    fds[QST_SIMRIG_RESPONSE] < 0) {
		snprintf(err, errlen, "the simulated rig needs a thermode and a pad");
		return QST_ERR_ARG;
	}
	struct qst_simrig *rig = calloc(1, sizeof(*rig));
	if (!rig)
		return QST_ERR_NOMEM;
	memcpy(rig->fds, fds, sizeof(rig->fds));
	rig->task_fd = -1;
	rig->probe_area_cm2 = cfg->probe_area_cm2 > 0 ? cfg->probe_area_cm2 : 1.0;
	int ret = new_stimulators(rig, cfg, fds, t0_ns);
	if (ret == QST_OK)
		ret = qst_xid_sim_new(fds[QST_SIMRIG_RESPONSE], t0_ns, &rig->xid);
	if (ret == QST_OK)
		ret = qst_participant_new(&cfg->participant, cfg->seed,
					  press_on_pad, rig->xid,
					  &rig->participant);
	if (ret == QST_OK)
		ret = arm_faults(rig, cfg);
	if (ret < 0) {
		snprintf(err, errlen, "cannot start the simulated devices: %s",
			 qst_strerror(ret));
		qst_simrig_free(rig);
		return ret;
	}
	*out = rig;
	return QST_OK;
}

void qst_simrig_free(struct qst_simrig *rig)
{
	if (!rig)
		return;
	qst_participant_free(rig->participant);
	qst_xid_sim_free(rig->xid);
	qst_mark10_sim_free(rig->mark10);
	qst_fgen_sim_free(rig->fgen);
	qst_evas_sim_free(rig->evas);
	qst_trigger_sim_free(rig->trigger);
	qst_tcs2_sim_free(rig->tcs2);
	if (rig->task_fd >= 0)
		close(rig->task_fd);
	free(rig);
}

void qst_simrig_step(struct qst_simrig *rig, int64_t t_ns)
{
	qst_tcs2_sim_step(rig->tcs2, t_ns);
	qst_participant_feel(rig->participant, t_ns,
			     qst_tcs2_sim_plate_c(rig->tcs2));
	if (rig->mark10) {
		qst_mark10_sim_step(rig->mark10, t_ns);
		/* 1 N/cm² = 10 kPa (qst-domain.md §2.9) */
		qst_participant_feel_pressure(rig->participant, t_ns,
					      qst_mark10_sim_force_n(rig->mark10) /
						      rig->probe_area_cm2 * 10.0);
	}
	if (rig->fgen)
		qst_fgen_sim_step(rig->fgen, t_ns);
	if (rig->evas)
		qst_evas_sim_step(rig->evas, t_ns);
	if (rig->trigger)
		qst_trigger_sim_step(rig->trigger, t_ns);
	qst_xid_sim_step(rig->xid, t_ns);
}

int64_t qst_simrig_next_due(const struct qst_simrig *rig)
{
	int64_t due[] = {
		qst_tcs2_sim_next_due(rig->tcs2),
		qst_xid_sim_next_due(rig->xid),
		rig->mark10 ? qst_mark10_sim_next_due(rig->mark10) : QST_SIM_NEVER,
		rig->fgen ? qst_fgen_sim_next_due(rig->fgen) : QST_SIM_NEVER,
		/* An untouched slider sends nothing: no need to wake. */
		rig->evas && rig->rating_capture ?
			qst_evas_sim_next_due(rig->evas) : QST_SIM_NEVER,
		rig->trigger ? qst_trigger_sim_next_due(rig->trigger) :
			       QST_SIM_NEVER,
	};
	int64_t t = QST_SIM_NEVER;
	for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++)
		t = due[i] < t ? due[i] : t;
	return t;
}

void qst_simrig_rating_capture(struct qst_simrig *rig, bool on)
{
	rig->rating_capture = on;
}

struct qst_participant *qst_simrig_participant(struct qst_simrig *rig)
{
	return rig->participant;
}

void qst_simrig_hand_press(struct qst_simrig *rig, int64_t t_ns,
			   double rate_kpa_s)
{
	/* kPa/s over the probe area back to N/s: 10 kPa = 1 N/cm². */
	if (rig->mark10)
		qst_mark10_sim_hand_press(rig->mark10, t_ns,
					  rate_kpa_s * rig->probe_area_cm2 / 10.0);
}

void qst_simrig_hand_release(struct qst_simrig *rig, int64_t t_ns)
{
	if (rig->mark10)
		qst_mark10_sim_hand_release(rig->mark10, t_ns);
}

int qst_simrig_listen(struct qst_simrig *rig, const char *path, char *err,
		      size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "participant link path too long: %s", path);
		return QST_ERR_ARG;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		snprintf(err, errlen, "participant link %s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return QST_ERR_IO;
	}
	rig->task_fd = fd;
	return QST_OK;
}

/* Every instruction waiting on the link, applied at t. */
static void take_tasks(struct qst_simrig *rig, int64_t t_ns)
{
	char line[128];
	ssize_t n;
	while (rig->task_fd >= 0 &&
	       (n = recv(rig->task_fd, line, sizeof(line) - 1, 0)) > 0) {
		line[n] = '\0';
		struct qst_task task;
		if (qst_task_parse(line, &task) == QST_OK)
			qst_participant_set_task(rig->participant, &task, t_ns);
		else
			qst_warn("participant link: not a task: %.40s", line);
	}
}

static bool only_hangups(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].revents & POLLIN)
			return false;
	return true;
}

void qst_simrig_serve(struct qst_simrig *rig, int64_t origin_mono_ns,
		      const volatile bool *stop)
{
	struct pollfd fds[QST_SIMRIG_SLOTS + 1];
	nfds_t n = 0;
	if (rig->task_fd >= 0)
		fds[n++] = (struct pollfd){ .fd = rig->task_fd, .events = POLLIN };
	for (int s = 0; s < QST_SIMRIG_SLOTS; s++)
		if (rig->fds[s] >= 0)
			fds[n++] = (struct pollfd){ .fd = rig->fds[s],
						    .events = POLLIN };
	while (!*stop) {
		int64_t now = qst_monotonic_ns() - origin_mono_ns;
		int64_t wait = qst_simrig_next_due(rig) - now;
		wait = wait < 0 ? 0 : wait > SERVE_MAX_SLEEP_NS ?
				   SERVE_MAX_SLEEP_NS : wait;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)wait };
		int ready = ppoll(fds, n, &ts, NULL);
		if (ready < 0 && errno != EINTR)
			qst_warn("ppoll: %s", strerror(errno));
		/* A port whose other side is closed polls as hung up for
		 * good: wait out the period rather than spin on it. */
		if (ready > 0 && only_hangups(fds, n))
			nanosleep(&ts, NULL);
		int64_t t = qst_monotonic_ns() - origin_mono_ns;
		take_tasks(rig, t);
		qst_simrig_step(rig, t);
	}
}
