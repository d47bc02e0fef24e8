/*
 * Outgoing byte queue for the simulators (see sim_outq.h).
 */
#define LOG_PREFIX "sim: "

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qst_core.h"
#include "sim_outq.h"

/* A driver that stops reading for this long has lost the device anyway. */
#define OUTQ_LIMIT (1u << 20)

void qst_sim_outq_free(struct qst_sim_outq *q)
{
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

static int reserve(struct qst_sim_outq *q, size_t extra)
{
	if (q->len + extra <= q->cap)
		return QST_OK;
	size_t cap = q->cap ? q->cap : 4096;
	while (cap < q->len + extra)
		cap *= 2;
	uint8_t *buf = realloc(q->buf, cap);
	if (!buf)
		return QST_ERR_NOMEM;
	q->buf = buf;
	q->cap = cap;
	return QST_OK;
}

/*
 * send() so a vanished host end is EPIPE, not SIGPIPE; write() for a far
 * end that is a tty (umockdev) rather than a socket.
 */
static ssize_t write_some(int fd, const uint8_t *p, size_t len)
{
	ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && errno == ENOTSOCK)
		n = write(fd, p, len);
	return n;
}

void qst_sim_outq_flush(struct qst_sim_outq *q, int fd, const char *who)
{
	size_t done = 0;
	while (done < q->len) {
		ssize_t n = write_some(fd, q->buf + done, q->len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* The driver side is gone: nobody will read these. */
			qst_dbg("%s: link closed, %zu bytes discarded", who,
				q->len - done);
			done = q->len;
		}
		break;
	}
	if (done == 0)
		return;
	memmove(q->buf, q->buf + done, q->len - done);
	q->len -= done;
}

void qst_sim_outq_send(struct qst_sim_outq *q, int fd, const void *data,
		       size_t len, const char *who)
{
	if (q->len + len > OUTQ_LIMIT || reserve(q, len) < 0) {
		if (q->dropped++ == 0)
			qst_warn("%s: host is not reading; dropping output "
				 "(%zu bytes queued)", who, q->len);
		return;
	}
	memcpy(q->buf + q->len, data, len);
	q->len += len;
	qst_sim_outq_flush(q, fd, who);
}

void qst_sim_read_commands(int fd, void (*take_byte)(void *sim, char c),
			   void *sim)
{
	char buf[256];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (ssize_t i = 0; i < n; i++)
			take_byte(sim, buf[i]);
	}
}
