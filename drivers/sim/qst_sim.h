/*
 * qst simulators — devices that speak their real wire protocol on the far
 * end of a transport, so the real driver code is what talks to them.
 *
 * Simulators are stepped by the station: step(t) reads any command bytes
 * waiting on the far fd, applies them at time t, advances the physics to t
 * and writes every message that fell due by t. next_due() tells the station
 * when the simulator next has something to say, so a virtual clock can jump
 * straight there. In real-time mode the station steps them from its I/O
 * thread with t = now.
 */
#ifndef QST_DRIVERS_SIM_QST_SIM_H
#define QST_DRIVERS_SIM_QST_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "qst_core.h"
#include "qst_drivers.h"

/* ------------------------------------ fault injection (simulation only) */

/*
 * A fault a simulated device develops on the virtual (or real) clock, to
 * test what the station does when a real one misbehaves
 * (docs/simulation.md). One per simulator; seeded, so deterministic.
 */
enum qst_sim_fault_kind {
	QST_SIM_FAULT_NONE = 0,
	/* From at_ns the device reads no command and sends nothing (a hung
	 * firmware); what it was doing physically goes on. */
	QST_SIM_FAULT_STALL = 1,
	/* At at_ns the device end of the link closes: host reads see the
	 * end of the stream, host writes fail. */
	QST_SIM_FAULT_DISCONNECT = 2,
	/* From at_ns for arg seconds (0: for good) noise on the device→host
	 * line: 1–3 random bytes inserted into every message, and a burst of
	 * 1–8 random bytes between messages every 10 ms. */
	QST_SIM_FAULT_GARBAGE = 3,
	/* TCS II only: from at_ns the plate stops following the command and
	 * settles, through its usual lag and slew limits, at the temperature
	 * it had at at_ns plus arg °C (0: it stays where it was). The
	 * readback reports the plate truthfully. */
	QST_SIM_FAULT_DIVERGE = 4,
};

struct qst_sim_fault {
	enum qst_sim_fault_kind kind;
	int64_t at_ns;
	double arg;
	uint64_t seed;  /* the garbage bytes */
};

const char *qst_sim_fault_kind_name(enum qst_sim_fault_kind kind);
/* "KIND@SECONDS[:ARG]", e.g. "stall@52.5", "diverge@40:-8"; QST_ERR_ARG
 * with the reason in err. */
int qst_sim_fault_parse(const char *spec, struct qst_sim_fault *out,
			char *err, size_t errlen);

/* ------------------------------------------- simulated QST.Lab TCS II */

struct qst_tcs2_sim_config {
	double initial_c;        /* probe temperature at power-up, default 32 */
	double max_heat_c_s;     /* physical slew limit heating, default 70 */
	double max_cool_c_s;     /* physical slew limit cooling, default 40 */
	double lag_s;            /* first-order sensor/plate lag, default 0.05 */
	double noise_sd_c;       /* readback noise per zone, default 0.02 */
	uint64_t seed;           /* noise RNG */
	char serial[32];         /* reported identity, default "SIM-0001" */
};

struct qst_tcs2_sim;

int qst_tcs2_sim_new(int fd, const struct qst_tcs2_sim_config *cfg,
		     int64_t t0_ns, struct qst_tcs2_sim **out);
void qst_tcs2_sim_free(struct qst_tcs2_sim *sim);
void qst_tcs2_sim_step(struct qst_tcs2_sim *sim, int64_t t_ns);
int64_t qst_tcs2_sim_next_due(const struct qst_tcs2_sim *sim);
/* The true plate temperature the skin feels (mean of enabled zones). */
double qst_tcs2_sim_plate_c(const struct qst_tcs2_sim *sim);
/* True while a stimulus (L) runs: ramp, hold or return. */
bool qst_tcs2_sim_stimulating(const struct qst_tcs2_sim *sim);
/*
 * Press probe button 1 ("stim") or 2 ("resp") at t_ns; it is down for
 * 150 ms and shows in the replies to `K` and `Og` (the device pushes
 * nothing).
 */
int qst_tcs2_sim_press_button(struct qst_tcs2_sim *sim, int64_t t_ns,
			      int button);
/* Set the `Q` digit of field 0 (neutral) or 1..5 (zone) to code 0..9. */
int qst_tcs2_sim_set_error(struct qst_tcs2_sim *sim, int field, int code);
/* Arm a fault (any kind); replaces one armed before. */
int qst_tcs2_sim_set_fault(struct qst_tcs2_sim *sim,
			   const struct qst_sim_fault *fault);

/* ------------------------------------------------ simulated Cedrus XID */

struct qst_xid_sim;

int qst_xid_sim_new(int fd, int64_t t0_ns, struct qst_xid_sim **out);
void qst_xid_sim_free(struct qst_xid_sim *sim);
/* Schedule a key event (key 1..8) at t_ns; sent when stepped past t_ns. */
int qst_xid_sim_schedule(struct qst_xid_sim *sim, int64_t t_ns, int key,
			 bool pressed);
void qst_xid_sim_step(struct qst_xid_sim *sim, int64_t t_ns);
int64_t qst_xid_sim_next_due(const struct qst_xid_sim *sim);
/* Stall, disconnect or garbage; key events due while stalled are lost. */
int qst_xid_sim_set_fault(struct qst_xid_sim *sim,
			  const struct qst_sim_fault *fault);

/* --------------------------------- simulated Mark-10 force gauge (PPT) */

struct qst_mark10_sim_config {
	double capacity_n;     /* gauge capacity, default 500 N (M5-100) */
	double noise_n;        /* reading noise, default 0.05 N */
	uint64_t seed;
	char serial[32];       /* default "SIM-M10-0001" */
};

struct qst_mark10_sim;

int qst_mark10_sim_new(int fd, const struct qst_mark10_sim_config *cfg,
		       int64_t t0_ns, struct qst_mark10_sim **out);
void qst_mark10_sim_free(struct qst_mark10_sim *sim);
void qst_mark10_sim_step(struct qst_mark10_sim *sim, int64_t t_ns);
int64_t qst_mark10_sim_next_due(const struct qst_mark10_sim *sim);
/* The simulated operator's hand on the probe: press harder at rate N/s
 * from t_ns on (with a human's unevenness), or let go. */
void qst_mark10_sim_hand_press(struct qst_mark10_sim *sim, int64_t t_ns,
			       double rate_n_s);
void qst_mark10_sim_hand_release(struct qst_mark10_sim *sim, int64_t t_ns);
/* The true force on the probe now, N. */
double qst_mark10_sim_force_n(const struct qst_mark10_sim *sim);
/* Stall, disconnect or garbage. */
int qst_mark10_sim_set_fault(struct qst_mark10_sim *sim,
			     const struct qst_sim_fault *fault);

/* ------------------------ simulated SCPI function generator (vibration) */

struct qst_fgen_sim;

int qst_fgen_sim_new(int fd, int64_t t0_ns, struct qst_fgen_sim **out);
void qst_fgen_sim_free(struct qst_fgen_sim *sim);
void qst_fgen_sim_step(struct qst_fgen_sim *sim, int64_t t_ns);
int64_t qst_fgen_sim_next_due(const struct qst_fgen_sim *sim);
/* Vibration amplitude now (Vpp, 0 when the output is off) and frequency. */
double qst_fgen_sim_amplitude_vpp(const struct qst_fgen_sim *sim);
double qst_fgen_sim_frequency_hz(const struct qst_fgen_sim *sim);

/* ------------------------------------------ simulated QST.Lab eVAS slider */

/*
 * The slider streams a line every 1/rate_hz s with the rating the
 * callback gives for that moment (0..100, scaled to 0..full_scale); NaN
 * means nobody touches the slider and no line goes out. Nothing about the
 * real rate or range is documented (devices.md §1.7, gap G5): 50 Hz and
 * 0..100 are this simulator's choices.
 */
struct qst_evas_sim_config {
	double rate_hz;         /* lines per second, default 50 */
	int full_scale;         /* raw value for a rating of 100, default 100 */
	const char *eol;        /* "\r\n" (default), "\r" or "\n" */
	double (*rating)(void *user, int64_t t_ns); /* NULL: markers only */
	void *user;
};

struct qst_evas_sim;

int qst_evas_sim_new(int fd, const struct qst_evas_sim_config *cfg,
		     int64_t t0_ns, struct qst_evas_sim **out);
void qst_evas_sim_free(struct qst_evas_sim *sim);
void qst_evas_sim_step(struct qst_evas_sim *sim, int64_t t_ns);
int64_t qst_evas_sim_next_due(const struct qst_evas_sim *sim);
/* Send a marker line at the next step: 'L', 'C', 'R', or 'S' for the
 * `999` sentinel. QST_ERR_ARG for anything else. */
int qst_evas_sim_marker(struct qst_evas_sim *sim, char marker);
/* Stall, disconnect or garbage; lines due while stalled are lost. */
int qst_evas_sim_set_fault(struct qst_evas_sim *sim,
			   const struct qst_sim_fault *fault);

/* ------------------------- simulated TTL trigger box (TriggerBox, MMBT-S) */

/* A byte the host wrote, stamped with the step that read it. */
struct qst_trigger_sim_byte {
	int64_t t_ns;
	uint8_t byte;
};

struct qst_trigger_sim;

int qst_trigger_sim_new(int fd, int64_t t0_ns, struct qst_trigger_sim **out);
void qst_trigger_sim_free(struct qst_trigger_sim *sim);
void qst_trigger_sim_step(struct qst_trigger_sim *sim, int64_t t_ns);
int64_t qst_trigger_sim_next_due(const struct qst_trigger_sim *sim);
/* Everything written to the box so far, in order; the count. */
size_t qst_trigger_sim_received(const struct qst_trigger_sim *sim,
				const struct qst_trigger_sim_byte **bytes);
/* The output level now: the last byte written (0 before any). */
uint8_t qst_trigger_sim_level(const struct qst_trigger_sim *sim);
/* The input port changes to state at t_ns; the box sends the state byte
 * when stepped past t_ns (TriggerBox, devices.md §6). */
int qst_trigger_sim_input(struct qst_trigger_sim *sim, int64_t t_ns,
			  uint8_t state);
/* Stall (bytes stay unread), disconnect or garbage (on the input line). */
int qst_trigger_sim_set_fault(struct qst_trigger_sim *sim,
			      const struct qst_sim_fault *fault);

#define QST_SIM_NEVER INT64_MAX

#endif
