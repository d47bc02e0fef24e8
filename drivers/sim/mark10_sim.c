/*
 * Simulated Mark-10 Series 5 force gauge (devices.md §4.1) with a simulated
 * operator's hand on the algometer probe. It reads the GCL2 commands the
 * driver sends and answers them in the gauge's reply formats; the force
 * follows the hand: a ramp at the asked rate with a human's unevenness,
 * and a quick fall to zero on release.
 *
 * Behaviour devices.md does not pin down, chosen here:
 * - Power-up unit lbF (the manual's LIST example shows LBF), mode CUR,
 *   readings always carry the unit; the load cell shows a small offset
 *   (POWERUP_OFFSET_N, the tip's weight) until zeroed with `Z`.
 * - Decimals: four significant digits at capacity in the current unit
 *   (500 N → 0.1 N, like an M5-100).
 * - Each reply is due RESPONSE_NS after the gauge turns to its command
 *   plus the bytes' time at 115200 baud; replies go out in order. The
 *   reading is taken when the command is read.
 * - Setters take effect at once and answer nothing; unknown commands
 *   answer `*10`, a filter setting above 10 answers `*22`.
 * - Overload is not documented (gap): readings saturate at ±capacity and
 *   the simulator warns once.
 * - `?` gives the current reading in CUR mode and the peak in PC/PT mode.
 */
#define LOG_PREFIX "mark10-sim: "

#include <ctype.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../mark10/protocol.h"
#include "qst_sim.h"
#include "sim_fault.h"
#include "sim_outq.h"

#define PHYSICS_STEP_NS QST_NS_PER_MS
#define RESPONSE_NS (QST_NS_PER_MS / 2)
#define BYTE_NS 86806 /* 10 bits at 115200 baud */
#define POWERUP_OFFSET_N 0.30
/* A hand-held ramp: ±8 % rate wobble at ~0.4 Hz (phase seeded), tremor
 * of TREMOR_SD_N with TREMOR_TAU_S correlation. Over whole wobble
 * periods the mean rate is the requested one. */
#define WOBBLE_FRACTION 0.08
#define WOBBLE_HZ 0.4
#define TREMOR_SD_N 0.03
#define TREMOR_TAU_S 0.05
/* Letting go takes this long from any force. */
#define RELEASE_S 0.25
#define MAX_REPLIES 64
#define CMD_MAX 32
#define REPLY_MAX 96

enum hand_state { HAND_IDLE, HAND_PRESS, HAND_RELEASE };
enum gauge_mode { MODE_CUR, MODE_PC, MODE_PT };

struct reply {
	int64_t due_ns;
	size_t len;
	char text[REPLY_MAX];
};

struct qst_mark10_sim {
	int fd;
	struct qst_mark10_sim_config cfg;
	struct qst_rng rng;
	int64_t now_ns;
	/* the hand */
	enum hand_state hand;
	int64_t hand_t0_ns;
	double hand_from_n;
	double rate_n_s;
	double wobble_phase;
	double smooth_n; /* force without tremor */
	double tremor_n;
	/* the gauge */
	double tare_n;
	double peak_comp_n;
	double peak_tens_n;
	enum qst_mark10_unit unit;
	enum gauge_mode mode;
	bool warned_overload;
	char cmd[CMD_MAX];
	size_t cmd_len;
	bool cmd_overflow;
	struct reply replies[MAX_REPLIES];
	size_t n_replies;
	int64_t busy_until_ns;
	struct qst_sim_outq out;
	struct qst_sim_fault_state fault;
};

/* -------------------------------------------------------------- physics */

double qst_mark10_sim_force_n(const struct qst_mark10_sim *sim)
{
	if (!sim)
		return NAN;
	double f = sim->smooth_n + sim->tremor_n;
	return f > 0 ? f : 0;
}

static double hand_force(const struct qst_mark10_sim *sim, int64_t t_ns)
{
	double el = qst_ns_to_s(t_ns - sim->hand_t0_ns);
	switch (sim->hand) {
	case HAND_PRESS: {
		/* ∫ rate (1 + a sin(2π f s + φ)) ds */
		double w = 2.0 * M_PI * WOBBLE_HZ;
		double wobble = WOBBLE_FRACTION / w *
				(cos(sim->wobble_phase) -
				 cos(w * el + sim->wobble_phase));
		return sim->hand_from_n + sim->rate_n_s * (el + wobble);
	}
	case HAND_RELEASE: {
		double f = sim->hand_from_n * (1.0 - el / RELEASE_S);
		return f > 0 ? f : 0;
	}
	default:
		return sim->smooth_n;
	}
}

/* Tremor: an Ornstein–Uhlenbeck wobble of the hand, only while touching. */
static void step_tremor(struct qst_mark10_sim *sim, double dt_s)
{
	if (sim->smooth_n <= 0) {
		sim->tremor_n = 0;
		return;
	}
	double a = exp(-dt_s / TREMOR_TAU_S);
	sim->tremor_n = a * sim->tremor_n +
			qst_rng_normal(&sim->rng, 0.0,
				       TREMOR_SD_N * sqrt(1.0 - a * a));
}

static void track_peaks(struct qst_mark10_sim *sim)
{
	double shown = qst_mark10_sim_force_n(sim) + POWERUP_OFFSET_N -
		       sim->tare_n;
	if (shown > sim->peak_comp_n)
		sim->peak_comp_n = shown;
	if (-shown > sim->peak_tens_n)
		sim->peak_tens_n = -shown;
}

static void physics_to(struct qst_mark10_sim *sim, int64_t t_ns)
{
	while (sim->now_ns < t_ns) {
		if (sim->hand == HAND_IDLE && sim->smooth_n <= 0) {
			sim->now_ns = t_ns;
			sim->tremor_n = 0;
			return;
		}
		int64_t dt = t_ns - sim->now_ns;
		if (dt > PHYSICS_STEP_NS)
			dt = PHYSICS_STEP_NS;
		sim->now_ns += dt;
		sim->smooth_n = hand_force(sim, sim->now_ns);
		if (sim->hand == HAND_RELEASE && sim->smooth_n <= 0) {
			sim->hand = HAND_IDLE;
			sim->smooth_n = 0;
		}
		step_tremor(sim, qst_ns_to_s(dt));
		track_peaks(sim);
	}
}

void qst_mark10_sim_hand_press(struct qst_mark10_sim *sim, int64_t t_ns,
			       double rate_n_s)
{
	if (!sim)
		return;
	if (!isfinite(rate_n_s) || rate_n_s <= 0) {
		qst_warn("hand press at %g N/s ignored", rate_n_s);
		return;
	}
	physics_to(sim, t_ns);
	sim->hand = HAND_PRESS;
	sim->hand_t0_ns = sim->now_ns;
	sim->hand_from_n = sim->smooth_n;
	sim->rate_n_s = rate_n_s;
	sim->wobble_phase = 2.0 * M_PI * qst_rng_uniform(&sim->rng);
}

void qst_mark10_sim_hand_release(struct qst_mark10_sim *sim, int64_t t_ns)
{
	if (!sim)
		return;
	physics_to(sim, t_ns);
	sim->hand = HAND_RELEASE;
	sim->hand_t0_ns = sim->now_ns;
	sim->hand_from_n = sim->smooth_n;
}

/* ---------------------------------------------------------------- output */

static void queue_reply(struct qst_mark10_sim *sim, const char *text,
			size_t len)
{
	if (sim->n_replies == MAX_REPLIES || len >= REPLY_MAX) {
		qst_warn("reply dropped: %zu replies already waiting",
			 sim->n_replies);
		return;
	}
	int64_t start = sim->busy_until_ns > sim->now_ns ? sim->busy_until_ns :
							    sim->now_ns;
	struct reply *r = &sim->replies[sim->n_replies++];
	r->due_ns = start + RESPONSE_NS + (int64_t)len * BYTE_NS;
	r->len = len;
	memcpy(r->text, text, len);
	sim->busy_until_ns = r->due_ns;
}

static void reply_line(struct qst_mark10_sim *sim, const char *text)
{
	char buf[REPLY_MAX];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", text);
	if (n > 0 && (size_t)n < sizeof(buf))
		queue_reply(sim, buf, (size_t)n);
}

static void send_due_replies(struct qst_mark10_sim *sim, int64_t t_ns)
{
	size_t n = 0;
	while (n < sim->n_replies && sim->replies[n].due_ns <= t_ns) {
		qst_sim_fault_send(&sim->fault, &sim->out, sim->fd,
				   sim->replies[n].text, sim->replies[n].len,
				   sim->replies[n].due_ns);
		n++;
	}
	if (n == 0)
		return;
	memmove(sim->replies, sim->replies + n,
		(sim->n_replies - n) * sizeof(sim->replies[0]));
	sim->n_replies -= n;
}

static int decimals_for(const struct qst_mark10_sim *sim)
{
	double cap = sim->cfg.capacity_n / qst_mark10_unit_newtons(sim->unit);
	int digits = cap >= 1.0 ? (int)floor(log10(cap)) + 1 : 1;
	int d = 4 - digits;
	return d < 0 ? 0 : d > 4 ? 4 : d;
}

static void reply_force(struct qst_mark10_sim *sim, double shown_n)
{
	double cap = sim->cfg.capacity_n;
	if (fabs(shown_n) > cap) {
		if (!sim->warned_overload)
			qst_warn("overload: %.1f N on a %.0f N gauge", shown_n,
				 cap);
		sim->warned_overload = true;
		shown_n = shown_n > 0 ? cap : -cap;
	}
	char buf[REPLY_MAX];
	int n = qst_mark10_format_reading(shown_n /
					  qst_mark10_unit_newtons(sim->unit),
					  decimals_for(sim), sim->unit, buf,
					  sizeof(buf));
	if (n > 0)
		queue_reply(sim, buf, (size_t)n);
}

static double current_shown_n(struct qst_mark10_sim *sim)
{
	return qst_mark10_sim_force_n(sim) + POWERUP_OFFSET_N - sim->tare_n +
	       qst_rng_normal(&sim->rng, 0.0, sim->cfg.noise_n);
}

static void reply_list(struct qst_mark10_sim *sim)
{
	static const char *const modes[] = { "CUR", "PC", "PT" };
	char buf[REPLY_MAX];
	snprintf(buf, sizeof(buf),
		 "V1.00;%s;%s;FLTC8;FLTP1;AOUT00;AOFF5;FULL;MIT;POL;B0",
		 qst_mark10_unit_list_label(sim->unit), modes[sim->mode]);
	reply_line(sim, buf);
}

/* -------------------------------------------------------------- commands */

static bool filter_command(struct qst_mark10_sim *sim, const char *cmd)
{
	if (strncmp(cmd, "FLTC", 4) != 0 && strncmp(cmd, "FLTP", 4) != 0)
		return false;
	char *end;
	long n = strtol(cmd + 4, &end, 10);
	if (end == cmd + 4 || *end)
		reply_line(sim, "*12");
	else if (n < 0 || n > 10)
		reply_line(sim, "*22");
	return true;
}

static bool query_command(struct qst_mark10_sim *sim, const char *cmd)
{
	if (strcmp(cmd, QST_MARK10_CMD_CURRENT) == 0 ||
	    (strcmp(cmd, QST_MARK10_CMD_DISPLAYED) == 0 && sim->mode == MODE_CUR))
		reply_force(sim, current_shown_n(sim));
	else if (strcmp(cmd, QST_MARK10_CMD_PEAK_COMP) == 0 ||
		 (strcmp(cmd, QST_MARK10_CMD_DISPLAYED) == 0 &&
		  sim->mode == MODE_PC))
		reply_force(sim, sim->peak_comp_n);
	else if (strcmp(cmd, QST_MARK10_CMD_PEAK_TENS) == 0 ||
		 strcmp(cmd, QST_MARK10_CMD_DISPLAYED) == 0)
		reply_force(sim, -sim->peak_tens_n);
	else if (strcmp(cmd, QST_MARK10_CMD_NAME) == 0)
		reply_line(sim, "Series 5 Digital Force Gauge");
	else if (strcmp(cmd, QST_MARK10_CMD_MODEL) == 0)
		reply_line(sim, "M5-100");
	else if (strcmp(cmd, QST_MARK10_CMD_FIRMWARE) == 0)
		reply_line(sim, "1.00 qst simulator");
	else if (strcmp(cmd, QST_MARK10_CMD_SERIAL) == 0)
		reply_line(sim, sim->cfg.serial);
	else if (strcmp(cmd, QST_MARK10_CMD_LIST) == 0)
		reply_list(sim);
	else
		return false;
	return true;
}

static void clear_peaks(struct qst_mark10_sim *sim)
{
	sim->peak_comp_n = 0;
	sim->peak_tens_n = 0;
}

static bool setting_command(struct qst_mark10_sim *sim, const char *cmd)
{
	enum qst_mark10_unit u = qst_mark10_parse_unit(cmd, strlen(cmd));
	if (u != QST_MARK10_UNIT_UNKNOWN &&
	    strcmp(cmd, qst_mark10_unit_command(u)) == 0) {
		sim->unit = u;
	} else if (strcmp(cmd, QST_MARK10_CMD_ZERO) == 0) {
		sim->tare_n = qst_mark10_sim_force_n(sim) + POWERUP_OFFSET_N;
		clear_peaks(sim);
	} else if (strcmp(cmd, QST_MARK10_CMD_CLEAR_PEAKS) == 0) {
		clear_peaks(sim);
	} else if (strcmp(cmd, QST_MARK10_CMD_MODE_CURRENT) == 0) {
		sim->mode = MODE_CUR;
	} else if (strcmp(cmd, "PC") == 0) {
		sim->mode = MODE_PC;
	} else if (strcmp(cmd, "PT") == 0) {
		sim->mode = MODE_PT;
	} else {
		return filter_command(sim, cmd);
	}
	return true;
}

static void run_command(struct qst_mark10_sim *sim, const char *cmd)
{
	if (!query_command(sim, cmd) && !setting_command(sim, cmd)) {
		qst_dbg("illegal command \"%s\"", cmd);
		reply_line(sim, "*10");
	}
}

/* CR ends a command; LF is ignored (devices.md §4.1). */
static void take_byte(void *arg, char c)
{
	struct qst_mark10_sim *sim = arg;
	if (c == '\n')
		return;
	if (c == '\r') {
		sim->cmd[sim->cmd_len] = '\0';
		if (sim->cmd_overflow)
			reply_line(sim, "*10");
		else if (sim->cmd_len > 0)
			run_command(sim, sim->cmd);
		sim->cmd_len = 0;
		sim->cmd_overflow = false;
		return;
	}
	if (sim->cmd_len + 1 >= CMD_MAX) {
		sim->cmd_overflow = true;
		return;
	}
	sim->cmd[sim->cmd_len++] = (char)toupper((unsigned char)c);
}

/* ------------------------------------------------------------ lifecycle */

int qst_mark10_sim_new(int fd, const struct qst_mark10_sim_config *cfg,
		       int64_t t0_ns, struct qst_mark10_sim **out)
{
	if (fd < 0 || !out)
		return QST_ERR_ARG;
	struct qst_mark10_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return QST_ERR_NOMEM;
	if (cfg)
		sim->cfg = *cfg;
	if (!(sim->cfg.capacity_n > 0))
		sim->cfg.capacity_n = 500.0;
	if (!(sim->cfg.noise_n >= 0))
		sim->cfg.noise_n = 0.05;
	if (!sim->cfg.serial[0])
		snprintf(sim->cfg.serial, sizeof(sim->cfg.serial),
			 "SIM-M10-0001");
	qst_rng_seed(&sim->rng, sim->cfg.seed);
	sim->fd = fd;
	sim->now_ns = t0_ns;
	sim->busy_until_ns = t0_ns;
	sim->unit = QST_MARK10_UNIT_LBF;
	sim->mode = MODE_CUR;
	struct qst_sim_fault none = { .kind = QST_SIM_FAULT_NONE };
	qst_sim_fault_arm(&sim->fault, &none, "mark10-sim");
	*out = sim;
	return QST_OK;
}

void qst_mark10_sim_free(struct qst_mark10_sim *sim)
{
	if (!sim)
		return;
	qst_sim_outq_free(&sim->out);
	if (sim->fd >= 0)
		close(sim->fd);
	free(sim);
}

void qst_mark10_sim_step(struct qst_mark10_sim *sim, int64_t t_ns)
{
	if (!sim || t_ns < sim->now_ns)
		return;
	if (qst_sim_fault_link_gone(&sim->fault, &sim->fd, t_ns)) {
		physics_to(sim, t_ns);
		sim->n_replies = 0;
		return;
	}
	bool talks = qst_sim_fault_talks(&sim->fault, t_ns);
	if (talks)
		qst_sim_outq_flush(&sim->out, sim->fd, "mark10-sim");
	physics_to(sim, t_ns);
	send_due_replies(sim, t_ns);
	if (talks)
		qst_sim_read_commands(sim->fd, take_byte, sim);
	send_due_replies(sim, t_ns);
	qst_sim_fault_noise(&sim->fault, &sim->out, sim->fd, t_ns);
}

/* A command waiting to be read: the device turns to it at once, so a
 * virtual clock must step the simulator now, not at its next reply. */
static bool input_waiting(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

int64_t qst_mark10_sim_next_due(const struct qst_mark10_sim *sim)
{
	if (!sim)
		return QST_SIM_NEVER;
	int64_t fault = qst_sim_fault_next_due(&sim->fault);
	/* A stalled gauge leaves commands unread: nothing to step for. */
	if (qst_sim_fault_talks(&sim->fault, sim->now_ns) &&
	    (qst_sim_outq_pending(&sim->out) > 0 || input_waiting(sim->fd)))
		return sim->now_ns;
	int64_t reply = sim->n_replies ? sim->replies[0].due_ns : QST_SIM_NEVER;
	return reply < fault ? reply : fault;
}

int qst_mark10_sim_set_fault(struct qst_mark10_sim *sim,
			     const struct qst_sim_fault *fault)
{
	if (!sim || !fault || fault->kind == QST_SIM_FAULT_DIVERGE)
		return QST_ERR_ARG;
	qst_sim_fault_arm(&sim->fault, fault, "mark10-sim");
	return QST_OK;
}
