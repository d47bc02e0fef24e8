/*
 * Fault injection for the simulators (sim_fault.h, docs/simulation.md).
 * Everything random comes from the fault's own seeded generator, and
 * every moment from the clock the simulator is stepped on, so a fault on
 * the virtual clock plays out the same way on every run.
 */
#define LOG_PREFIX "sim-fault: "

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_fault.h"

/* Noise between messages: a burst this often, of 1..NOISE_BURST_MAX bytes. */
#define NOISE_PERIOD_NS (10 * QST_NS_PER_MS)
#define NOISE_BURST_MAX 8
/* Bytes inserted into each message while garbage is on: 1..INSERT_MAX. */
#define INSERT_MAX 3
#define GARBLE_MAX 256

static const char *const kind_names[] = {
	[QST_SIM_FAULT_NONE] = "none",
	[QST_SIM_FAULT_STALL] = "stall",
	[QST_SIM_FAULT_DISCONNECT] = "disconnect",
	[QST_SIM_FAULT_GARBAGE] = "garbage",
	[QST_SIM_FAULT_DIVERGE] = "diverge",
};

const char *qst_sim_fault_kind_name(enum qst_sim_fault_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "?";
	return kind_names[kind];
}

static bool parse_number(const char *s, size_t n, double *out)
{
	char buf[32];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	errno = 0;
	double v = strtod(buf, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static int parse_kind(const char *s, size_t n, enum qst_sim_fault_kind *kind)
{
	for (int k = QST_SIM_FAULT_STALL; k <= QST_SIM_FAULT_DIVERGE; k++) {
		if (strlen(kind_names[k]) == n && strncmp(s, kind_names[k], n) == 0) {
			*kind = (enum qst_sim_fault_kind)k;
			return QST_OK;
		}
	}
	return QST_ERR_ARG;
}

static int bad_spec(char *err, size_t errlen, const char *spec, const char *why)
{
	snprintf(err, errlen, "'%s': %s", spec, why);
	return QST_ERR_ARG;
}

/* The argument a kind takes, checked. */
static int check_arg(struct qst_sim_fault *f, bool has_arg, const char *spec,
		     char *err, size_t errlen)
{
	switch (f->kind) {
	case QST_SIM_FAULT_STALL:
	case QST_SIM_FAULT_DISCONNECT:
		if (has_arg)
			return bad_spec(err, errlen, spec, "stall and disconnect take no :ARG");
		return QST_OK;
	case QST_SIM_FAULT_GARBAGE:
		if (f->arg < 0 || f->arg > 1e6)
			return bad_spec(err, errlen, spec,
					"garbage:SECONDS lasts 0 (for good) to 1e6 s");
		return QST_OK;
	default:
		if (fabs(f->arg) > 60)
			return bad_spec(err, errlen, spec,
					"diverge:DEGREES is a drift of -60 to 60 degC");
		return QST_OK;
	}
}

int qst_sim_fault_parse(const char *spec, struct qst_sim_fault *out,
			char *err, size_t errlen)
{
	if (!spec || !out)
		return QST_ERR_ARG;
	const char *at = strchr(spec, '@');
	if (!at)
		return bad_spec(err, errlen, spec, "expected KIND@SECONDS[:ARG]");
	struct qst_sim_fault f = { 0 };
	if (parse_kind(spec, (size_t)(at - spec), &f.kind) < 0)
		return bad_spec(err, errlen, spec,
				"KIND is stall, disconnect, garbage or diverge");
	const char *colon = strchr(at + 1, ':');
	size_t tlen = colon ? (size_t)(colon - at - 1) : strlen(at + 1);
	double seconds;
	if (!parse_number(at + 1, tlen, &seconds) || seconds < 0 || seconds > 1e6)
		return bad_spec(err, errlen, spec, "SECONDS must be a number of "
				"seconds on the session clock, 0 to 1e6");
	f.at_ns = qst_s_to_ns(seconds);
	if (colon && !parse_number(colon + 1, strlen(colon + 1), &f.arg))
		return bad_spec(err, errlen, spec, "ARG must be a number");
	int ret = check_arg(&f, colon != NULL, spec, err, errlen);
	if (ret == QST_OK)
		*out = f;
	return ret;
}

void qst_sim_fault_arm(struct qst_sim_fault_state *fs,
		       const struct qst_sim_fault *f, const char *who)
{
	memset(fs, 0, sizeof(*fs));
	fs->f = *f;
	fs->who = who;
	fs->next_noise_ns = f->kind == QST_SIM_FAULT_GARBAGE ? f->at_ns :
							       QST_SIM_NEVER;
	qst_rng_seed(&fs->rng, f->seed);
	if (f->kind != QST_SIM_FAULT_NONE)
		qst_info("%s: %s armed for %.3f s (arg %g)", who,
			 qst_sim_fault_kind_name(f->kind), qst_ns_to_s(f->at_ns),
			 f->arg);
}

static bool active(const struct qst_sim_fault_state *fs,
		   enum qst_sim_fault_kind kind, int64_t t_ns)
{
	return fs->f.kind == kind && t_ns >= fs->f.at_ns;
}

bool qst_sim_fault_stalled(const struct qst_sim_fault_state *fs, int64_t t_ns)
{
	return active(fs, QST_SIM_FAULT_STALL, t_ns);
}

bool qst_sim_fault_garbling(const struct qst_sim_fault_state *fs, int64_t t_ns)
{
	return active(fs, QST_SIM_FAULT_GARBAGE, t_ns) &&
	       (fs->f.arg <= 0 || t_ns < fs->f.at_ns + qst_s_to_ns(fs->f.arg));
}

bool qst_sim_fault_diverging(const struct qst_sim_fault_state *fs,
			     int64_t t_ns)
{
	return active(fs, QST_SIM_FAULT_DIVERGE, t_ns);
}

bool qst_sim_fault_link_gone(struct qst_sim_fault_state *fs, int *fd,
			     int64_t t_ns)
{
	if (!fs->gone && active(fs, QST_SIM_FAULT_DISCONNECT, t_ns)) {
		qst_info("%s: disconnecting at %.3f s", fs->who, qst_ns_to_s(t_ns));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		fs->gone = true;
	}
	return fs->gone;
}

static uint8_t random_byte(struct qst_sim_fault_state *fs)
{
	fs->garbage_bytes++;
	return (uint8_t)(qst_rng_next(&fs->rng) >> 56);
}

static size_t random_below(struct qst_sim_fault_state *fs, size_t n)
{
	return (size_t)(qst_rng_uniform(&fs->rng) * (double)n);
}

/* The message with 1..INSERT_MAX random bytes at random places. */
static size_t garble(struct qst_sim_fault_state *fs, const uint8_t *p,
		     size_t len, uint8_t *out)
{
	size_t n = len, extra = 1 + random_below(fs, INSERT_MAX);
	memcpy(out, p, len);
	for (size_t i = 0; i < extra; i++) {
		size_t at = random_below(fs, n + 1);
		memmove(out + at + 1, out + at, n - at);
		out[at] = random_byte(fs);
		n++;
	}
	return n;
}

void qst_sim_fault_send(struct qst_sim_fault_state *fs, struct qst_sim_outq *q,
			int fd, const void *data, size_t len, int64_t t_ns)
{
	if (!qst_sim_fault_talks(fs, t_ns))
		return;
	if (!qst_sim_fault_garbling(fs, t_ns) || len + INSERT_MAX > GARBLE_MAX) {
		qst_sim_outq_send(q, fd, data, len, fs->who);
		return;
	}
	uint8_t buf[GARBLE_MAX];
	size_t n = garble(fs, data, len, buf);
	qst_sim_outq_send(q, fd, buf, n, fs->who);
}

void qst_sim_fault_noise(struct qst_sim_fault_state *fs, struct qst_sim_outq *q,
			 int fd, int64_t t_ns)
{
	while (fs->next_noise_ns <= t_ns) {
		if (!qst_sim_fault_garbling(fs, fs->next_noise_ns)) {
			fs->next_noise_ns = QST_SIM_NEVER;
			return;
		}
		uint8_t burst[NOISE_BURST_MAX];
		size_t n = 1 + random_below(fs, NOISE_BURST_MAX);
		for (size_t i = 0; i < n; i++)
			burst[i] = random_byte(fs);
		if (qst_sim_fault_talks(fs, fs->next_noise_ns))
			qst_sim_outq_send(q, fd, burst, n, fs->who);
		fs->next_noise_ns += NOISE_PERIOD_NS;
	}
}

int64_t qst_sim_fault_next_due(const struct qst_sim_fault_state *fs)
{
	if (fs->f.kind == QST_SIM_FAULT_DISCONNECT && !fs->gone)
		return fs->f.at_ns;
	if (fs->f.kind == QST_SIM_FAULT_GARBAGE && !fs->gone)
		return fs->next_noise_ns;
	return QST_SIM_NEVER;
}
