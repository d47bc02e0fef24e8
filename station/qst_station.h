/*
 * qst station — the devices of one lab station and the single event queue
 * their bytes turn into.
 *
 * Drivers parse bytes into timestamped events; the station pushes them into
 * one queue and the session pops them. On the simulated station each
 * device's simulator sits on the far end of a transport, and the virtual
 * participant feels the simulated thermode's plate and presses keys on the
 * simulated response pad. On a virtual clock the station steps all of them
 * itself, jumping straight to the next moment anything happens; on a real
 * clock an I/O thread does the same against CLOCK_MONOTONIC.
 */
#ifndef QST_STATION_QST_STATION_H
#define QST_STATION_QST_STATION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "qst_core.h"
#include "qst_drivers.h"
#include "qst_participant.h"
#include "qst_sim.h"
#include "qst_simrig.h"
#include "qst_wirelog.h"

/* ----------------------------------------------------------- event queue */

#define QST_EVQ_CAPACITY 16384

/* A bounded FIFO between device I/O and the session, safe across threads. */
struct qst_evq {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	struct qst_event *ring;
	size_t head, count;
	uint64_t dropped;
};

int qst_evq_init(struct qst_evq *q);
void qst_evq_destroy(struct qst_evq *q);
/* Never blocks; when full the event is counted as dropped (and logged). */
void qst_evq_push(struct qst_evq *q, const struct qst_event *ev);
bool qst_evq_pop(struct qst_evq *q, struct qst_event *ev);
/* Real clock: wait until an event is queued or CLOCK_MONOTONIC passes
 * abs_mono_ns. Returns true with *ev filled when one arrived. */
bool qst_evq_pop_wait(struct qst_evq *q, int64_t abs_mono_ns,
		      struct qst_event *ev);

/* --------------------------------------------------------------- station */

enum qst_role {
	QST_ROLE_THERMAL = 0,
	QST_ROLE_RESPONSE = 1,
	QST_ROLE_PRESSURE = 2,
	QST_ROLE_VIBRATION = 3,
	QST_ROLE_RATING = 4,     /* continuous rating slider (eVAS) */
	QST_ROLE_SYNC = 5,       /* TTL trigger box for EEG/fMRI markers */
	QST_ROLE_COUNT
};

/*
 * The device of one role (a station file's roles.ROLE): driver "sim" for
 * the simulated one, "none" for no device, or a real driver on a serial
 * port (by path or by "usb:VID:PID[:serial]") or a USB device ("VID:PID"
 * or "VID:PID:serial", hex).
 */
struct qst_role_config {
	char driver[16];   /* "sim", "none", "tcs2", "xid", ... */
	char port[128];    /* serial device path, e.g. /dev/ttyACM0 */
	char usb[64];      /* "VID:PID" or "VID:PID:serial", hex */
	int baud;          /* serial: 0 for the driver's default */
};

struct qst_station_config {
	enum qst_clock_mode clock_mode;
	uint64_t seed;                        /* simulation and jitter RNG */
	struct qst_participant_profile participant;
	double probe_area_cm2;                /* algometer probe, default 1 cm² (§2.9) */
	/* Vibration drive ceiling (station file, qst_supervisor.h): a sine
	 * above it is refused before the wire. 0: the compiled-in one. */
	double max_vpp;
	/* Simulation only: a fault each simulated device develops
	 * (docs/simulation.md); kind NONE for a healthy device. */
	struct qst_sim_fault faults[QST_ROLE_COUNT];
	/* Borrowed: every device link is tapped into it, NULL for none. */
	struct qst_wirelog *wirelog;
	/* Per role; all zero (or all "sim") for the simulated station. A
	 * real driver in any role makes a real station: then every role is
	 * a real driver or "none" (the virtual participant can only feel a
	 * simulated thermode), and the clock must be real. */
	struct qst_role_config roles[QST_ROLE_COUNT];
	/* Real devices served by simulators (qst simulate, the driver
	 * tests): the Unix datagram socket where their virtual participant
	 * takes the operator's instructions (qst_simrig_listen); "" none. */
	char participant_link[108];
	/* Real clock: the I/O thread runs SCHED_FIFO (above the session's
	 * pacing), memory locked, if permitted (qst run --realtime). */
	bool realtime;
};

/* True when cfg names a real driver for some role. */
bool qst_station_config_is_real(const struct qst_station_config *cfg);

/* The role's name: "thermal", "response", "pressure", "vibration". */
const char *qst_role_name(enum qst_role role);
/* The device class a role takes (a driver serves one class). */
enum qst_dev_class qst_role_class(enum qst_role role);
/* What the operator calls the device: "thermode", "response pad", ... */
const char *qst_role_noun(enum qst_role role);
/*
 * Parse a simulated fault "[ROLE:]KIND@SECONDS[:ARG]" (role thermal unless
 * given) into cfg->faults; QST_ERR_ARG with the reason in err.
 */
int qst_station_parse_fault(struct qst_station_config *cfg, const char *spec,
			    char *err, size_t errlen);

struct qst_station {
	struct qst_clock clock;
	struct qst_evq queue;
	struct qst_dev dev[QST_ROLE_COUNT];
	bool dev_open[QST_ROLE_COUNT];        /* false: the station has none */
	bool link_lost[QST_ROLE_COUNT];       /* reported once, then not read */
	int wake_fd;                          /* eventfd: wake the I/O thread */
	/* the simulated devices and participant; NULL for real devices */
	struct qst_simrig *rig;
	int link_fd;                          /* participant link, or -1 */
	double probe_area_cm2;
	double max_vpp;
	int64_t poll_due[QST_ROLE_COUNT];     /* drivers that must be asked */
	struct qst_wirelog *wirelog;          /* borrowed, or NULL */
	/* guards devices, simulators and participant against the I/O thread */
	pthread_mutex_t lock;
	pthread_t io_thread;
	bool io_running;
	bool io_realtime;                     /* asked for SCHED_FIFO */
	volatile bool io_stop;
	int64_t last_pump_ns;
};

/* Build the simulated station, open and identify every device. */
int qst_station_open_simulated(const struct qst_station_config *cfg,
			       struct qst_station **out, char *errbuf,
			       size_t errlen);
/*
 * Open the station cfg describes: the simulated one, or real devices on
 * their ports (QST_ERR_DEVICE/IO/NOTFOUND with errbuf naming the role,
 * the driver and the port when one cannot be opened or does not identify).
 */
int qst_station_open(const struct qst_station_config *cfg,
		     struct qst_station **out, char *errbuf, size_t errlen);
/* Whether the station has a device in this role. */
bool qst_station_has(const struct qst_station *st, enum qst_role role);
void qst_station_close(struct qst_station *st);

int64_t qst_station_now(struct qst_station *st);

/*
 * Next device event, or 0 when the session clock reaches deadline_ns first
 * (on a virtual clock time jumps to whatever happens next). Returns 1 with
 * *ev filled, 0 on deadline, or a negative qst_err.
 */
int qst_station_next_event(struct qst_station *st, int64_t deadline_ns,
			   struct qst_event *ev);

/* Device operations under the station lock (the I/O thread runs beside). */
int qst_station_thermal_ramp(struct qst_station *st, double target_c,
			     double rate_c_s, double hold_s,
			     double return_c_s);
/* QST_ERR_UNSUPPORTED when the thermode has no waveforms. */
int qst_station_thermal_waveform(struct qst_station *st,
				 const struct qst_wave_segment *seg, size_t n,
				 double return_c_s);
int qst_station_thermal_neutral(struct qst_station *st, double celsius);
int qst_station_thermal_max(struct qst_station *st, double celsius);
int qst_station_thermal_abort(struct qst_station *st);
/* A temperature or rate as the thermode will play it (its resolution). */
double qst_station_thermal_as_played(struct qst_station *st, double value);
int qst_station_response_reset(struct qst_station *st);

int qst_station_pressure_zero(struct qst_station *st);
/* Poll the algometer at hz (0 stops). */
int qst_station_pressure_rate(struct qst_station *st, double hz);
/* QST_ERR_LIMIT, nothing sent, for an amplitude above the ceiling. */
int qst_station_vibration(struct qst_station *st, double hz,
			  double amplitude_vpp, bool on);
/* Lower the vibration ceiling (a protocol's qst.safety{}); never raises it. */
void qst_station_tighten_vibration(struct qst_station *st, double max_vpp);
/* Put a trigger code (1..255) on the sync line for pulse_ms, then 0x00;
 * recorded as sync events. QST_ERR_NOTFOUND without a trigger box. */
int qst_station_sync(struct qst_station *st, int code, int pulse_ms);
/* A protocol that rates continuously: the virtual participant takes the
 * simulated slider (a real one streams regardless). */
void qst_station_rating_capture(struct qst_station *st, bool on);
/* The rating slider's raw full scale (eVAS range, devices.md gap G5). */
int qst_station_rating_scale(struct qst_station *st, int raw_full_scale);
/* The simulated operator's hand on the algometer (simulated station only):
 * start pressing at rate kPa/s, or let go. */
void qst_station_hand_press(struct qst_station *st, double rate_kpa_s);
void qst_station_hand_release(struct qst_station *st);
/* What the virtual participant answers to a manual stimulus. */
double qst_station_participant_answer(struct qst_station *st, int test,
				      int stimulus, double value, int kind);

/* A remote conditioning stimulus (CPM, qst-domain.md §6.3) starts (on,
 * intensity 0..1) or stops: the virtual participant feels it; no-op on
 * hardware, where the operator applies it. */
void qst_station_participant_condition(struct qst_station *st,
				       double intensity, bool on);

/* Tell the virtual participant what is being asked (no-op on hardware). */
void qst_station_participant_task(struct qst_station *st,
				  const struct qst_task *task);

#endif
