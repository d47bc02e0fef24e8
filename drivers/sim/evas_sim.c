/*
 * Simulated QST.Lab eVAS rating slider (devices.md §1.7): a line stream
 * with nothing to answer. Every period it asks the rating callback where
 * the slider is and sends that as an integer line; marker lines (`L`,
 * `C`, `R`, the `999` sentinel) go out when asked for.
 *
 * Choices where devices.md is silent (gap G5), all configurable except
 * the last two: 50 lines/s, raw 0..100, CR LF endings; a line goes out
 * at t0 + k/rate; a NaN rating (slider untouched) sends no line; bytes
 * the host writes are read and ignored, since no command is known.
 * A simulator stepped more than a second late does not replay the lines
 * it missed (the real slider would not have buffered them either).
 */
#define LOG_PREFIX "evas-sim: "

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../evas/protocol.h"
#include "qst_sim.h"
#include "sim_fault.h"
#include "sim_outq.h"

#define DEFAULT_RATE_HZ 50.0
#define MAX_RATE_HZ 1000.0
#define CATCH_UP_NS QST_NS_PER_S
#define MARKERS_MAX 16
#define LINE_MAX_BYTES 32

struct qst_evas_sim {
	int fd;
	struct qst_evas_sim_config cfg;
	int64_t now_ns;
	int64_t period_ns;
	int64_t next_line_ns;
	char markers[MARKERS_MAX];
	size_t n_markers;
	unsigned long ignored_bytes;
	struct qst_sim_outq out;
	struct qst_sim_fault_state fault;
};

static int check_config(struct qst_evas_sim_config *c)
{
	if (c->rate_hz == 0)
		c->rate_hz = DEFAULT_RATE_HZ;
	if (c->full_scale == 0)
		c->full_scale = QST_EVAS_DEFAULT_FULL_SCALE;
	if (!c->eol)
		c->eol = "\r\n";
	char probe[LINE_MAX_BYTES];
	if (!(c->rate_hz > 0 && c->rate_hz <= MAX_RATE_HZ) ||
	    c->full_scale < 1 || c->full_scale > QST_EVAS_MAX_FULL_SCALE ||
	    qst_evas_format_rating(0, c->eol, probe, sizeof(probe)) < 0)
		return QST_ERR_ARG;
	return QST_OK;
}

int qst_evas_sim_new(int fd, const struct qst_evas_sim_config *cfg,
		     int64_t t0_ns, struct qst_evas_sim **out)
{
	if (fd < 0 || !out)
		return QST_ERR_ARG;
	struct qst_evas_sim_config c = { 0 };
	if (cfg)
		c = *cfg;
	if (check_config(&c) < 0) {
		qst_err("bad configuration: rate %g Hz, full scale %d",
			c.rate_hz, c.full_scale);
		return QST_ERR_ARG;
	}
	struct qst_evas_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return QST_ERR_NOMEM;
	sim->fd = fd;
	sim->cfg = c;
	sim->now_ns = t0_ns;
	sim->period_ns = qst_s_to_ns(1.0 / c.rate_hz);
	sim->next_line_ns = t0_ns;
	struct qst_sim_fault none = { .kind = QST_SIM_FAULT_NONE };
	qst_sim_fault_arm(&sim->fault, &none, "evas-sim");
	*out = sim;
	return QST_OK;
}

void qst_evas_sim_free(struct qst_evas_sim *sim)
{
	if (!sim)
		return;
	if (sim->ignored_bytes)
		qst_dbg("%lu bytes from the host ignored", sim->ignored_bytes);
	qst_sim_outq_free(&sim->out);
	if (sim->fd >= 0)
		close(sim->fd);
	free(sim);
}

int qst_evas_sim_marker(struct qst_evas_sim *sim, char marker)
{
	if (!sim || (marker != 'L' && marker != 'C' && marker != 'R' &&
		     marker != 'S'))
		return QST_ERR_ARG;
	if (sim->n_markers == MARKERS_MAX)
		return QST_ERR_STATE;
	sim->markers[sim->n_markers++] = marker;
	return QST_OK;
}

static void send_line(struct qst_evas_sim *sim, const char *text,
		      int64_t t_ns)
{
	char buf[LINE_MAX_BYTES];
	size_t n = strlen(text), e = strlen(sim->cfg.eol);
	memcpy(buf, text, n);
	memcpy(buf + n, sim->cfg.eol, e);
	qst_sim_fault_send(&sim->fault, &sim->out, sim->fd, buf, n + e, t_ns);
}

/* The slider's position at t as a raw integer; false if untouched. */
static bool raw_at(const struct qst_evas_sim *sim, int64_t t_ns, int32_t *raw)
{
	double r = sim->cfg.rating(sim->cfg.user, t_ns);
	if (isnan(r))
		return false;
	r = r < 0 ? 0 : r > 100 ? 100 : r;
	*raw = (int32_t)lround(r / 100.0 * sim->cfg.full_scale);
	return true;
}

static void send_due_lines(struct qst_evas_sim *sim, int64_t t_ns)
{
	if (!sim->cfg.rating)
		return;
	if (t_ns - sim->next_line_ns > CATCH_UP_NS) {
		int64_t missed = (t_ns - sim->next_line_ns) / sim->period_ns;
		sim->next_line_ns += missed * sim->period_ns;
		qst_dbg("stepped late: %lld lines skipped", (long long)missed);
	}
	for (; sim->next_line_ns <= t_ns; sim->next_line_ns += sim->period_ns) {
		int32_t raw;
		char buf[LINE_MAX_BYTES];
		if (!raw_at(sim, sim->next_line_ns, &raw))
			continue;
		int n = qst_evas_format_rating(raw, sim->cfg.eol, buf,
					       sizeof(buf));
		if (n > 0)
			qst_sim_fault_send(&sim->fault, &sim->out, sim->fd,
					   buf, (size_t)n, sim->next_line_ns);
	}
}

static void send_markers(struct qst_evas_sim *sim, int64_t t_ns)
{
	for (size_t i = 0; i < sim->n_markers; i++) {
		char text[2] = { sim->markers[i], '\0' };
		send_line(sim, sim->markers[i] == 'S' ? "999" : text, t_ns);
	}
	sim->n_markers = 0;
}

static void ignore_byte(void *arg, char c)
{
	struct qst_evas_sim *sim = arg;
	(void)c;
	sim->ignored_bytes++;
}

void qst_evas_sim_step(struct qst_evas_sim *sim, int64_t t_ns)
{
	if (!sim || t_ns < sim->now_ns)
		return;
	if (qst_sim_fault_link_gone(&sim->fault, &sim->fd, t_ns)) {
		sim->now_ns = t_ns;
		sim->n_markers = 0;
		return;
	}
	bool talks = qst_sim_fault_talks(&sim->fault, t_ns);
	if (talks)
		qst_sim_outq_flush(&sim->out, sim->fd, "evas-sim");
	send_due_lines(sim, t_ns);
	send_markers(sim, t_ns);
	sim->now_ns = t_ns;
	if (talks)
		qst_sim_read_commands(sim->fd, ignore_byte, sim);
	qst_sim_fault_noise(&sim->fault, &sim->out, sim->fd, t_ns);
}

int64_t qst_evas_sim_next_due(const struct qst_evas_sim *sim)
{
	if (!sim)
		return QST_SIM_NEVER;
	if (sim->n_markers > 0 || (qst_sim_outq_pending(&sim->out) > 0 &&
				   qst_sim_fault_talks(&sim->fault, sim->now_ns)))
		return sim->now_ns;
	int64_t fault = qst_sim_fault_next_due(&sim->fault);
	int64_t line = sim->cfg.rating && !sim->fault.gone ? sim->next_line_ns :
							     QST_SIM_NEVER;
	return line < fault ? line : fault;
}

int qst_evas_sim_set_fault(struct qst_evas_sim *sim,
			   const struct qst_sim_fault *fault)
{
	if (!sim || !fault || fault->kind == QST_SIM_FAULT_DIVERGE)
		return QST_ERR_ARG;
	qst_sim_fault_arm(&sim->fault, fault, "evas-sim");
	return QST_OK;
}
