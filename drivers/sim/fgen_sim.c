/*
 * Simulated SCPI function generator driving a mini-shaker (devices.md
 * §5.1): reads newline-terminated SCPI commands, keeps the sine's
 * frequency, amplitude, offset and output state, and answers queries in
 * order. The USB-TMC framing of a real generator is not modelled: the
 * lines travel bare, as on the driver side (see drivers/fgen/api.c).
 *
 * Behaviour devices.md does not pin down, chosen here:
 * - Commands run one after another, each taking a fixed time (APPL 20 ms,
 *   other settings 5 ms, queries 1 ms), so `*OPC?` answers only once
 *   everything before it has taken effect: the barrier is observable.
 * - Power-up (and *RST): 1 kHz, 0.1 Vpp, offset 0, output off, Vpp units,
 *   the Keysight 33500 defaults.
 * - Numbers are answered in NR3 ("+1.000000000000000E+02"), booleans as
 *   1/0; errors go to a queue read by SYST:ERR? (-113 undefined header,
 *   -104 data type error, -222 data out of range).
 * - Range: 1 µHz..30 MHz, 1 mVpp..20 Vpp (high-Z), like a 33500.
 */
#define LOG_PREFIX "fgen-sim: "

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fgen/protocol.h"
#include "qst_sim.h"
#include "sim_outq.h"

#define APPLY_NS (20 * QST_NS_PER_MS)
#define SETTING_NS (5 * QST_NS_PER_MS)
#define QUERY_NS QST_NS_PER_MS
#define MAX_PENDING 64
#define MAX_ERRORS 20
#define FREQ_MIN_HZ 1e-6
#define FREQ_MAX_HZ 30e6
#define AMPL_MIN_VPP 1e-3
#define AMPL_MAX_VPP 20.0

struct pending {
	int64_t done_ns;
	int parse_ret;
	struct qst_fgen_cmd cmd;
};

struct qst_fgen_sim {
	int fd;
	int64_t now_ns;
	int64_t busy_until_ns;
	char line[QST_FGEN_LINE_MAX];
	size_t line_len;
	bool line_bad;
	struct pending pending[MAX_PENDING];
	size_t n_pending;
	int errors[MAX_ERRORS];
	size_t n_errors;
	/* the generator's state */
	double hz;
	double vpp;
	double offset_v;
	bool vrms;        /* amplitudes given and read in Vrms */
	bool output_on;
	struct qst_sim_outq out;
};

static void power_up(struct qst_fgen_sim *sim)
{
	sim->hz = 1000.0;
	sim->vpp = 0.1;
	sim->offset_v = 0.0;
	sim->vrms = false;
	sim->output_on = false;
}

double qst_fgen_sim_amplitude_vpp(const struct qst_fgen_sim *sim)
{
	return sim && sim->output_on ? sim->vpp : 0.0;
}

double qst_fgen_sim_frequency_hz(const struct qst_fgen_sim *sim)
{
	return sim ? sim->hz : NAN;
}

/* ---------------------------------------------------------------- output */

static void reply(struct qst_fgen_sim *sim, const char *text)
{
	char buf[QST_FGEN_LINE_MAX + 2];
	int n = snprintf(buf, sizeof(buf), "%s\n", text);
	qst_sim_outq_send(&sim->out, sim->fd, buf, (size_t)n, "fgen-sim");
}

static void reply_nr3(struct qst_fgen_sim *sim, double v)
{
	char buf[40];
	snprintf(buf, sizeof(buf), "%+.15E", v);
	reply(sim, buf);
}

static void push_error(struct qst_fgen_sim *sim, int code)
{
	if (sim->n_errors < MAX_ERRORS)
		sim->errors[sim->n_errors++] = code;
}

static const char *error_text(int code)
{
	switch (code) {
	case -104: return "Data type error";
	case -113: return "Undefined header";
	case -222: return "Data out of range";
	default: return "Error";
	}
}

static void reply_error(struct qst_fgen_sim *sim)
{
	char buf[64];
	if (sim->n_errors == 0) {
		reply(sim, "+0,\"No error\"");
		return;
	}
	int code = sim->errors[0];
	memmove(sim->errors, sim->errors + 1,
		(sim->n_errors - 1) * sizeof(sim->errors[0]));
	sim->n_errors--;
	snprintf(buf, sizeof(buf), "%+d,\"%s\"", code, error_text(code));
	reply(sim, buf);
}

/* ------------------------------------------------------------- commands */

static double amplitude_to_vpp(const struct qst_fgen_sim *sim, double a)
{
	return sim->vrms ? a * 2.0 * M_SQRT2 : a;
}

static double vpp_to_amplitude(const struct qst_fgen_sim *sim, double vpp)
{
	return sim->vrms ? vpp / (2.0 * M_SQRT2) : vpp;
}

static bool freq_ok(double hz)
{
	return hz >= FREQ_MIN_HZ && hz <= FREQ_MAX_HZ;
}

static bool vpp_ok(double vpp)
{
	return vpp >= AMPL_MIN_VPP && vpp <= AMPL_MAX_VPP;
}

static void apply_sine(struct qst_fgen_sim *sim, const struct qst_fgen_cmd *c)
{
	double vpp = amplitude_to_vpp(sim, c->args[1]);
	if (!freq_ok(c->args[0]) || !vpp_ok(vpp)) {
		push_error(sim, -222);
		return;
	}
	sim->hz = c->args[0];
	sim->vpp = vpp;
	if (c->n_args > 2)
		sim->offset_v = c->args[2];
	/* APPLy turns the output on (Keysight 33xxx, Rigol DG). */
	sim->output_on = true;
}

static void reply_apply(struct qst_fgen_sim *sim)
{
	char buf[QST_FGEN_LINE_MAX];
	snprintf(buf, sizeof(buf), "\"SIN %+.15E,%+.15E,%+.15E\"", sim->hz,
		 vpp_to_amplitude(sim, sim->vpp), sim->offset_v);
	reply(sim, buf);
}

static void set_checked(struct qst_fgen_sim *sim, double *field, double v,
			bool ok)
{
	if (ok)
		*field = v;
	else
		push_error(sim, -222);
}

static void execute(struct qst_fgen_sim *sim, const struct pending *p)
{
	const struct qst_fgen_cmd *c = &p->cmd;
	if (p->parse_ret < 0) {
		push_error(sim, -104);
		return;
	}
	switch (c->kind) {
	case QST_FGEN_IDN_Q: reply(sim, "qst,SIM-FGEN shaker driver,SIM-FG-0001,1.0"); break;
	case QST_FGEN_RST: power_up(sim); break;
	case QST_FGEN_CLS: sim->n_errors = 0; break;
	case QST_FGEN_OPC_Q: reply(sim, "1"); break;
	case QST_FGEN_OPC: break;
	case QST_FGEN_APPLY_SIN: apply_sine(sim, c); break;
	case QST_FGEN_APPLY_Q: reply_apply(sim); break;
	case QST_FGEN_FREQ:
		set_checked(sim, &sim->hz, c->args[0], freq_ok(c->args[0]));
		break;
	case QST_FGEN_FREQ_Q: reply_nr3(sim, sim->hz); break;
	case QST_FGEN_VOLT: {
		double vpp = amplitude_to_vpp(sim, c->args[0]);
		set_checked(sim, &sim->vpp, vpp, vpp_ok(vpp));
		break;
	}
	case QST_FGEN_VOLT_Q: reply_nr3(sim, vpp_to_amplitude(sim, sim->vpp)); break;
	case QST_FGEN_OFFSET: sim->offset_v = c->args[0]; break;
	case QST_FGEN_OFFSET_Q: reply_nr3(sim, sim->offset_v); break;
	case QST_FGEN_VOLT_UNIT: sim->vrms = strcmp(c->word, "VRMS") == 0; break;
	case QST_FGEN_OUTPUT: sim->output_on = c->flag; break;
	case QST_FGEN_OUTPUT_Q: reply(sim, sim->output_on ? "1" : "0"); break;
	case QST_FGEN_LOAD: break;
	case QST_FGEN_ERROR_Q: reply_error(sim); break;
	default: push_error(sim, -113); break;
	}
}

static int64_t cost_of(const struct qst_fgen_cmd *c)
{
	switch (c->kind) {
	case QST_FGEN_APPLY_SIN: return APPLY_NS;
	case QST_FGEN_FREQ:
	case QST_FGEN_VOLT:
	case QST_FGEN_OFFSET:
	case QST_FGEN_OUTPUT:
	case QST_FGEN_RST: return SETTING_NS;
	default: return QUERY_NS;
	}
}

static void enqueue_line(struct qst_fgen_sim *sim, const char *line)
{
	if (sim->n_pending == MAX_PENDING) {
		qst_warn("input buffer full: \"%s\" lost", line);
		return;
	}
	struct pending *p = &sim->pending[sim->n_pending++];
	p->parse_ret = qst_fgen_parse_command(line, &p->cmd);
	if (p->cmd.kind == QST_FGEN_UNKNOWN && p->parse_ret == QST_OK)
		qst_dbg("undefined header \"%s\"", line);
	int64_t start = sim->busy_until_ns > sim->now_ns ? sim->busy_until_ns :
							    sim->now_ns;
	p->done_ns = start + cost_of(&p->cmd);
	sim->busy_until_ns = p->done_ns;
}

static void take_byte(void *arg, char c)
{
	struct qst_fgen_sim *sim = arg;
	if (c == '\n') {
		sim->line[sim->line_len] = '\0';
		if (sim->line_bad)
			push_error(sim, -113);
		else if (sim->line_len > 0)
			enqueue_line(sim, sim->line);
		sim->line_len = 0;
		sim->line_bad = false;
	} else if (c != '\r') {
		if (sim->line_len + 1 >= sizeof(sim->line))
			sim->line_bad = true;
		else
			sim->line[sim->line_len++] = c;
	}
}

static void run_due(struct qst_fgen_sim *sim, int64_t t_ns)
{
	size_t n = 0;
	while (n < sim->n_pending && sim->pending[n].done_ns <= t_ns)
		execute(sim, &sim->pending[n++]);
	if (n == 0)
		return;
	memmove(sim->pending, sim->pending + n,
		(sim->n_pending - n) * sizeof(sim->pending[0]));
	sim->n_pending -= n;
}

/* ------------------------------------------------------------ lifecycle */

int qst_fgen_sim_new(int fd, int64_t t0_ns, struct qst_fgen_sim **out)
{
	if (fd < 0 || !out)
		return QST_ERR_ARG;
	struct qst_fgen_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return QST_ERR_NOMEM;
	sim->fd = fd;
	sim->now_ns = t0_ns;
	sim->busy_until_ns = t0_ns;
	power_up(sim);
	*out = sim;
	return QST_OK;
}

void qst_fgen_sim_free(struct qst_fgen_sim *sim)
{
	if (!sim)
		return;
	qst_sim_outq_free(&sim->out);
	close(sim->fd);
	free(sim);
}

void qst_fgen_sim_step(struct qst_fgen_sim *sim, int64_t t_ns)
{
	if (!sim || t_ns < sim->now_ns)
		return;
	qst_sim_outq_flush(&sim->out, sim->fd, "fgen-sim");
	run_due(sim, t_ns);
	sim->now_ns = t_ns;
	qst_sim_read_commands(sim->fd, take_byte, sim);
}

/* A command waiting to be read: the device turns to it at once, so a
 * virtual clock must step the simulator now, not at its next reply. */
static bool input_waiting(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

int64_t qst_fgen_sim_next_due(const struct qst_fgen_sim *sim)
{
	if (!sim)
		return QST_SIM_NEVER;
	if (qst_sim_outq_pending(&sim->out) > 0 || input_waiting(sim->fd))
		return sim->now_ns;
	return sim->n_pending ? sim->pending[0].done_ns : QST_SIM_NEVER;
}
