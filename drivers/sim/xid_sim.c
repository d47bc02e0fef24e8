/*
 * Simulated Cedrus XID response pad (devices.md §3): answers the `_c1`
 * probe with `_xid0`, resets its reaction-time timer on `e5`, answers the
 * `_e5` timer query, and sends 6-byte key packets for scheduled key events
 * with RT = event time − last reset, in whole ms (the pad's 1 ms timer).
 *
 * Choices where devices.md is silent: the timer starts at power-up (t0);
 * `c1N` is accepted and ignored (the simulated pad is always in XID mode);
 * key events are sent on port 0 (push buttons); an event scheduled before
 * the last reset reports RT 0; key events due by a step go out before the
 * commands read in that step are applied; key events due while the pad
 * is stalled or disconnected (qst_xid_sim_set_fault) are lost.
 */
#define LOG_PREFIX "xid-sim: "

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../xid/protocol.h"
#include "qst_sim.h"
#include "sim_fault.h"
#include "sim_outq.h"

struct key_event {
	int64_t t_ns;
	int key;
	bool pressed;
};

struct qst_xid_sim {
	int fd;
	int64_t now_ns;
	int64_t reset_ns;
	struct key_event *events; /* sorted by time, FIFO among equal times */
	size_t n_events;
	size_t cap_events;
	char cmd[4];
	size_t cmd_len;
	struct qst_sim_outq out;
	struct qst_sim_fault_state fault;
};

static void send_bytes(struct qst_xid_sim *sim, const void *p, size_t len)
{
	qst_sim_fault_send(&sim->fault, &sim->out, sim->fd, p, len, sim->now_ns);
}

int qst_xid_sim_new(int fd, int64_t t0_ns, struct qst_xid_sim **out)
{
	if (fd < 0 || !out)
		return QST_ERR_ARG;
	struct qst_xid_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return QST_ERR_NOMEM;
	sim->fd = fd;
	sim->now_ns = t0_ns;
	sim->reset_ns = t0_ns;
	struct qst_sim_fault none = { .kind = QST_SIM_FAULT_NONE };
	qst_sim_fault_arm(&sim->fault, &none, "xid-sim");
	*out = sim;
	return QST_OK;
}

void qst_xid_sim_free(struct qst_xid_sim *sim)
{
	if (!sim)
		return;
	qst_sim_outq_free(&sim->out);
	free(sim->events);
	if (sim->fd >= 0)
		close(sim->fd);
	free(sim);
}

int qst_xid_sim_schedule(struct qst_xid_sim *sim, int64_t t_ns, int key,
			 bool pressed)
{
	if (!sim || key < 1 || key > 8)
		return QST_ERR_ARG;
	if (sim->n_events == sim->cap_events) {
		size_t cap = sim->cap_events ? 2 * sim->cap_events : 16;
		struct key_event *ev = realloc(sim->events, cap * sizeof(*ev));
		if (!ev)
			return QST_ERR_NOMEM;
		sim->events = ev;
		sim->cap_events = cap;
	}
	size_t i = sim->n_events;
	while (i > 0 && sim->events[i - 1].t_ns > t_ns)
		i--;
	memmove(&sim->events[i + 1], &sim->events[i],
		(sim->n_events - i) * sizeof(*sim->events));
	sim->events[i] = (struct key_event){ t_ns, key, pressed };
	sim->n_events++;
	return QST_OK;
}

static uint32_t rt_ms_at(const struct qst_xid_sim *sim, int64_t t_ns)
{
	if (t_ns <= sim->reset_ns)
		return 0;
	/* The pad's timer is 32 bits of whole milliseconds. */
	return (uint32_t)((t_ns - sim->reset_ns) / QST_NS_PER_MS);
}

static void send_due_keys(struct qst_xid_sim *sim, int64_t t_ns)
{
	size_t n = 0;
	while (n < sim->n_events && sim->events[n].t_ns <= t_ns) {
		const struct key_event *e = &sim->events[n];
		struct qst_xid_key k = { .port = 0, .key = e->key,
					 .pressed = e->pressed,
					 .rt_ms = rt_ms_at(sim, e->t_ns) };
		uint8_t pkt[QST_XID_PACKET_LEN];
		/* Sent as of the key's own moment, so a stall drops it. */
		int64_t now = sim->now_ns;
		sim->now_ns = e->t_ns > now ? e->t_ns : now;
		if (qst_xid_encode_key(&k, pkt) == QST_OK)
			send_bytes(sim, pkt, sizeof(pkt));
		sim->now_ns = now;
		n++;
	}
	if (n == 0)
		return;
	memmove(sim->events, sim->events + n,
		(sim->n_events - n) * sizeof(*sim->events));
	sim->n_events -= n;
}

static void send_timer(struct qst_xid_sim *sim)
{
	uint32_t ms = rt_ms_at(sim, sim->now_ns);
	uint8_t reply[7] = { '_', 'e', '5' };
	for (int i = 0; i < 4; i++)
		reply[3 + i] = (uint8_t)(ms >> (8 * i));
	send_bytes(sim, reply, sizeof(reply));
}

/* Length of the command begun in cmd (devices.md §3.3), 0 if unknown. */
static size_t command_length(char c)
{
	switch (c) {
	case '_': return 3; /* _c1, _e5, _d2 … */
	case 'c': return 3; /* c1N */
	case 'e': return 2; /* e1, e5 */
	default: return 0;
	}
}

static void run_command(struct qst_xid_sim *sim, const char *cmd)
{
	if (strcmp(cmd, QST_XID_CMD_PROBE) == 0)
		send_bytes(sim, "_xid0", QST_XID_PROBE_REPLY_LEN);
	else if (strcmp(cmd, QST_XID_CMD_QUERY_TIMER) == 0)
		send_timer(sim);
	else if (strcmp(cmd, QST_XID_CMD_RESET_TIMER) == 0 ||
		 strcmp(cmd, "e1") == 0)
		sim->reset_ns = sim->now_ns;
	else if (strncmp(cmd, "c1", 2) == 0)
		qst_dbg("protocol %c requested; staying in XID mode", cmd[2]);
	else
		qst_dbg("%s not simulated", cmd);
}

static void take_byte(void *arg, char c)
{
	struct qst_xid_sim *sim = arg;
	if (sim->cmd_len == 0 && command_length(c) == 0) {
		qst_dbg("skipping byte 0x%02x", (unsigned char)c);
		return;
	}
	sim->cmd[sim->cmd_len++] = c;
	if (sim->cmd_len < command_length(sim->cmd[0]))
		return;
	sim->cmd[sim->cmd_len] = '\0';
	run_command(sim, sim->cmd);
	sim->cmd_len = 0;
}

void qst_xid_sim_step(struct qst_xid_sim *sim, int64_t t_ns)
{
	if (!sim || t_ns < sim->now_ns)
		return;
	bool gone = qst_sim_fault_link_gone(&sim->fault, &sim->fd, t_ns);
	if (qst_sim_fault_talks(&sim->fault, t_ns))
		qst_sim_outq_flush(&sim->out, sim->fd, "xid-sim");
	send_due_keys(sim, t_ns);
	sim->now_ns = t_ns;
	if (gone)
		return;
	if (qst_sim_fault_talks(&sim->fault, t_ns))
		qst_sim_read_commands(sim->fd, take_byte, sim);
	qst_sim_fault_noise(&sim->fault, &sim->out, sim->fd, t_ns);
}

int64_t qst_xid_sim_next_due(const struct qst_xid_sim *sim)
{
	if (!sim)
		return QST_SIM_NEVER;
	int64_t fault = qst_sim_fault_next_due(&sim->fault);
	if (qst_sim_outq_pending(&sim->out) > 0 &&
	    qst_sim_fault_talks(&sim->fault, sim->now_ns))
		return sim->now_ns;
	int64_t key = sim->n_events ? sim->events[0].t_ns : QST_SIM_NEVER;
	return key < fault ? key : fault;
}

int qst_xid_sim_set_fault(struct qst_xid_sim *sim,
			  const struct qst_sim_fault *fault)
{
	if (!sim || !fault || fault->kind == QST_SIM_FAULT_DIVERGE)
		return QST_ERR_ARG;
	qst_sim_fault_arm(&sim->fault, fault, "xid-sim");
	return QST_OK;
}
