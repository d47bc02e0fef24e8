/*
 * The wire log (qst_wirelog.h): chunks in memory and/or as text lines.
 */
#define LOG_PREFIX "wirelog: "

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "qst_wirelog.h"

#define MAX_ROLES 8
#define ROLE_MAX 16

struct chunk {
	int64_t t_ns;
	int role;
	enum qst_wire_dir dir;
	int status;
	size_t off, len; /* into bytes */
};

struct qst_wirelog {
	/* Chunks come from the session thread and, on a real clock, from
	 * the station's I/O thread. */
	pthread_mutex_t lock;
	FILE *out;
	bool keep;
	qst_wirelog_clock_fn clock;
	void *clock_user;
	char roles[MAX_ROLES][ROLE_MAX];
	int n_roles;
	struct chunk *chunks;
	size_t n_chunks, cap_chunks;
	uint8_t *bytes;
	size_t n_bytes, cap_bytes;
	unsigned long write_errors;
};

int qst_wirelog_new(FILE *out, bool keep, struct qst_wirelog **log)
{
	if (!log)
		return QST_ERR_ARG;
	struct qst_wirelog *w = calloc(1, sizeof(*w));
	if (!w)
		return QST_ERR_NOMEM;
	pthread_mutex_init(&w->lock, NULL);
	w->out = out;
	w->keep = keep;
	if (out && fprintf(out, "# qst wire log 1: t_ns role dir bytes [error]\n") < 0)
		w->write_errors++;
	*log = w;
	return QST_OK;
}

void qst_wirelog_free(struct qst_wirelog *log)
{
	if (!log)
		return;
	if (log->out && fflush(log->out) != 0)
		log->write_errors++;
	pthread_mutex_destroy(&log->lock);
	free(log->chunks);
	free(log->bytes);
	free(log);
}

void qst_wirelog_set_clock(struct qst_wirelog *log, qst_wirelog_clock_fn fn,
			   void *user)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->lock);
	log->clock = fn;
	log->clock_user = user;
	pthread_mutex_unlock(&log->lock);
}

int qst_wirelog_attach(struct qst_wirelog *log, struct qst_transport *t,
		       const char *role)
{
	if (!log || !t || !role || !role[0] || strlen(role) >= ROLE_MAX ||
	    strchr(role, ' '))
		return QST_ERR_ARG;
	pthread_mutex_lock(&log->lock);
	int r = 0;
	while (r < log->n_roles && strcmp(log->roles[r], role) != 0)
		r++;
	if (r == log->n_roles && r < MAX_ROLES)
		snprintf(log->roles[log->n_roles++], ROLE_MAX, "%s", role);
	pthread_mutex_unlock(&log->lock);
	if (r == MAX_ROLES)
		return QST_ERR_ARG;
	t->wire_role = r;
	t->wirelog = log;
	return QST_OK;
}

size_t qst_wire_escape(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t o = 0, written = 0;
	/* A lone '-' would read as "no bytes". */
	bool lone_dash = len == 1 && p[0] == '-';
	for (size_t i = 0; i < len; i++) {
		char hex[5];
		size_t n = 1;
		if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '\\' && !lone_dash)
			hex[0] = (char)p[i];
		else
			n = (size_t)snprintf(hex, sizeof(hex), "\\x%02x", p[i]);
		/* Truncated only ever at a whole byte's text. */
		if (written == o && o + n < cap) {
			memcpy(out + o, hex, n);
			written += n;
		}
		o += n;
	}
	if (cap > 0)
		out[written] = '\0';
	return o;
}

static const char *dir_text(enum qst_wire_dir dir, int status)
{
	if (dir == QST_WIRE_TX)
		return status < 0 ? ">!" : ">";
	return status < 0 ? "<!" : "<";
}

/* One text line; caller holds the lock. */
static void write_line(struct qst_wirelog *log, int64_t t_ns, int role,
		       enum qst_wire_dir dir, const uint8_t *p, size_t len,
		       int status)
{
	char small[512];
	char *text = small;
	size_t need = 4 * len + 2;
	if (need > sizeof(small) && !(text = malloc(need))) {
		log->write_errors++;
		return;
	}
	if (len)
		qst_wire_escape(p, len, text, need);
	else
		snprintf(text, need, "-");
	int n = fprintf(log->out, "%lld %s %s %s%s%s\n", (long long)t_ns,
			log->roles[role], dir_text(dir, status), text,
			status < 0 ? " " : "",
			status < 0 ? qst_strerror_name(status) : "");
	if (n < 0)
		log->write_errors++;
	if (text != small)
		free(text);
}

static int grow(void **buf, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return QST_OK;
	size_t n = *cap ? *cap : 1024;
	while (n < need)
		n *= 2;
	void *p = realloc(*buf, n * size);
	if (!p)
		return QST_ERR_NOMEM;
	*buf = p;
	*cap = n;
	return QST_OK;
}

/* Keep a copy of the chunk; caller holds the lock. */
static void keep_chunk(struct qst_wirelog *log, const struct chunk *c,
		       const uint8_t *p)
{
	if (grow((void **)&log->chunks, &log->cap_chunks, log->n_chunks + 1,
		 sizeof(*log->chunks)) < 0 ||
	    grow((void **)&log->bytes, &log->cap_bytes, log->n_bytes + c->len,
		 1) < 0) {
		qst_warn("out of memory: chunk at %lld ns not kept",
			 (long long)c->t_ns);
		return;
	}
	struct chunk *k = &log->chunks[log->n_chunks++];
	*k = *c;
	k->off = log->n_bytes;
	if (c->len)
		memcpy(log->bytes + log->n_bytes, p, c->len);
	log->n_bytes += c->len;
}

void qst_wirelog_add(struct qst_wirelog *log, int role, enum qst_wire_dir dir,
		     const void *buf, size_t len, int status)
{
	if (!log || role < 0 || (!buf && len))
		return;
	pthread_mutex_lock(&log->lock);
	if (role < log->n_roles) {
		struct chunk c = {
			.t_ns = log->clock ? log->clock(log->clock_user) : 0,
			.role = role, .dir = dir, .status = status, .len = len,
		};
		if (log->out)
			write_line(log, c.t_ns, role, dir, buf, len, status);
		if (log->keep)
			keep_chunk(log, &c, buf);
	}
	pthread_mutex_unlock(&log->lock);
}

size_t qst_wirelog_count(const struct qst_wirelog *log)
{
	return log ? log->n_chunks : 0;
}

int qst_wirelog_get(const struct qst_wirelog *log, size_t i,
		    struct qst_wire_chunk *out)
{
	if (!log || !out || i >= log->n_chunks)
		return QST_ERR_ARG;
	const struct chunk *c = &log->chunks[i];
	*out = (struct qst_wire_chunk){
		.t_ns = c->t_ns, .role = log->roles[c->role], .dir = c->dir,
		.status = c->status, .data = log->bytes + c->off, .len = c->len,
	};
	return QST_OK;
}

unsigned long qst_wirelog_write_errors(const struct qst_wirelog *log)
{
	return log ? log->write_errors : 0;
}
