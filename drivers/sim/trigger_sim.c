/*
 * Simulated TTL trigger box (devices.md §6): a TriggerBox or MMBT-S on
 * the far end of a link. It keeps every byte the host writes with the
 * moment it read it, so tests (and a recorder of the simulated EEG) can
 * check codes and their timing; the last byte is the output level. Input
 * port changes are sent back as one state byte each, as the TriggerBox
 * does; the MMBT-S sends nothing, so a test of it schedules none.
 *
 * Choices where devices.md is silent: a byte's time is the step that
 * read it (the line changes when the byte arrives); input-port bytes go
 * out only on a change asked for (the rev. 02 box polls at 100 Hz and
 * its sample code prints every byte, but nothing says it repeats an
 * unchanged state).
 */
#define LOG_PREFIX "trigger-sim: "

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qst_sim.h"
#include "sim_fault.h"
#include "sim_outq.h"

struct input_change {
	int64_t t_ns;
	uint8_t state;
};

struct qst_trigger_sim {
	int fd;
	int64_t now_ns;
	struct qst_trigger_sim_byte *got;
	size_t n_got;
	size_t cap_got;
	bool grow_failed;
	struct input_change *inputs; /* sorted by time, FIFO among equals */
	size_t n_inputs;
	size_t cap_inputs;
	struct qst_sim_outq out;
	struct qst_sim_fault_state fault;
};

int qst_trigger_sim_new(int fd, int64_t t0_ns, struct qst_trigger_sim **out)
{
	if (fd < 0 || !out)
		return QST_ERR_ARG;
	struct qst_trigger_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return QST_ERR_NOMEM;
	sim->fd = fd;
	sim->now_ns = t0_ns;
	struct qst_sim_fault none = { .kind = QST_SIM_FAULT_NONE };
	qst_sim_fault_arm(&sim->fault, &none, "trigger-sim");
	*out = sim;
	return QST_OK;
}

void qst_trigger_sim_free(struct qst_trigger_sim *sim)
{
	if (!sim)
		return;
	qst_sim_outq_free(&sim->out);
	free(sim->got);
	free(sim->inputs);
	if (sim->fd >= 0)
		close(sim->fd);
	free(sim);
}

size_t qst_trigger_sim_received(const struct qst_trigger_sim *sim,
				const struct qst_trigger_sim_byte **bytes)
{
	if (!sim) {
		if (bytes)
			*bytes = NULL;
		return 0;
	}
	if (bytes)
		*bytes = sim->got;
	return sim->n_got;
}

uint8_t qst_trigger_sim_level(const struct qst_trigger_sim *sim)
{
	return sim && sim->n_got ? sim->got[sim->n_got - 1].byte : 0;
}

int qst_trigger_sim_input(struct qst_trigger_sim *sim, int64_t t_ns,
			  uint8_t state)
{
	if (!sim)
		return QST_ERR_ARG;
	if (sim->n_inputs == sim->cap_inputs) {
		size_t cap = sim->cap_inputs ? 2 * sim->cap_inputs : 16;
		struct input_change *in = realloc(sim->inputs, cap * sizeof(*in));
		if (!in)
			return QST_ERR_NOMEM;
		sim->inputs = in;
		sim->cap_inputs = cap;
	}
	size_t i = sim->n_inputs;
	while (i > 0 && sim->inputs[i - 1].t_ns > t_ns)
		i--;
	memmove(&sim->inputs[i + 1], &sim->inputs[i],
		(sim->n_inputs - i) * sizeof(*sim->inputs));
	sim->inputs[i] = (struct input_change){ t_ns, state };
	sim->n_inputs++;
	return QST_OK;
}

static void send_due_inputs(struct qst_trigger_sim *sim, int64_t t_ns)
{
	size_t n = 0;
	while (n < sim->n_inputs && sim->inputs[n].t_ns <= t_ns) {
		/* As of the change's own moment, so a stall drops it. */
		qst_sim_fault_send(&sim->fault, &sim->out, sim->fd,
				   &sim->inputs[n].state, 1, sim->inputs[n].t_ns);
		n++;
	}
	if (n == 0)
		return;
	memmove(sim->inputs, sim->inputs + n,
		(sim->n_inputs - n) * sizeof(*sim->inputs));
	sim->n_inputs -= n;
}

static void take_byte(void *arg, char c)
{
	struct qst_trigger_sim *sim = arg;
	if (sim->n_got == sim->cap_got) {
		size_t cap = sim->cap_got ? 2 * sim->cap_got : 64;
		struct qst_trigger_sim_byte *got =
			realloc(sim->got, cap * sizeof(*got));
		if (!got) {
			if (!sim->grow_failed)
				qst_warn("out of memory: bytes no longer kept");
			sim->grow_failed = true;
			return;
		}
		sim->got = got;
		sim->cap_got = cap;
	}
	sim->got[sim->n_got++] = (struct qst_trigger_sim_byte){
		sim->now_ns, (uint8_t)c };
	qst_spew("output 0x%02x at %.6f s", (uint8_t)c, qst_ns_to_s(sim->now_ns));
}

void qst_trigger_sim_step(struct qst_trigger_sim *sim, int64_t t_ns)
{
	if (!sim || t_ns < sim->now_ns)
		return;
	if (qst_sim_fault_link_gone(&sim->fault, &sim->fd, t_ns)) {
		sim->now_ns = t_ns;
		sim->n_inputs = 0;
		return;
	}
	bool talks = qst_sim_fault_talks(&sim->fault, t_ns);
	if (talks)
		qst_sim_outq_flush(&sim->out, sim->fd, "trigger-sim");
	send_due_inputs(sim, t_ns);
	sim->now_ns = t_ns;
	if (talks)
		qst_sim_read_commands(sim->fd, take_byte, sim);
	qst_sim_fault_noise(&sim->fault, &sim->out, sim->fd, t_ns);
}

/* A byte waiting to be read changes the line now: a virtual clock must
 * step the simulator at once, not at its next input change. */
static bool input_waiting(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

int64_t qst_trigger_sim_next_due(const struct qst_trigger_sim *sim)
{
	if (!sim)
		return QST_SIM_NEVER;
	if (qst_sim_fault_talks(&sim->fault, sim->now_ns) &&
	    (qst_sim_outq_pending(&sim->out) > 0 || input_waiting(sim->fd)))
		return sim->now_ns;
	int64_t fault = qst_sim_fault_next_due(&sim->fault);
	int64_t in = sim->n_inputs ? sim->inputs[0].t_ns : QST_SIM_NEVER;
	return in < fault ? in : fault;
}

int qst_trigger_sim_set_fault(struct qst_trigger_sim *sim,
			      const struct qst_sim_fault *fault)
{
	if (!sim || !fault || fault->kind == QST_SIM_FAULT_DIVERGE)
		return QST_ERR_ARG;
	qst_sim_fault_arm(&sim->fault, fault, "trigger-sim");
	return QST_OK;
}
