/*
 * The in-process transport: one end of a non-blocking AF_UNIX stream
 * socketpair. The far end belongs to a simulator speaking the device's wire
 * protocol, so the real driver code is exercised without hardware.
 */
#define LOG_PREFIX "transport-pipe: "

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qst_drivers.h"

struct pipe_priv {
	int fd;
};

static int pipe_fd_of(struct qst_transport *t)
{
	return ((struct pipe_priv *)t->priv)->fd;
}

/* Milliseconds left until deadline_ns on CLOCK_MONOTONIC, never negative. */
static int ms_left(int64_t deadline_ns)
{
	int64_t left = deadline_ns - qst_monotonic_ns();
	if (left <= 0)
		return 0;
	return (int)((left + QST_NS_PER_MS - 1) / QST_NS_PER_MS);
}

static int wait_writable(int fd, int64_t deadline_ns)
{
	for (;;) {
		int timeout = ms_left(deadline_ns);
		if (timeout == 0)
			return QST_ERR_TIMEOUT;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int n = poll(&pfd, 1, timeout);
		if (n > 0)
			return QST_OK;
		if (n == 0)
			return QST_ERR_TIMEOUT;
		if (errno != EINTR)
			return QST_ERR_IO;
	}
}

static int pipe_write(struct qst_transport *t, const void *buf, size_t len,
		      unsigned timeout_ms)
{
	int fd = pipe_fd_of(t);
	const uint8_t *p = buf;
	int64_t deadline = qst_monotonic_ns() + (int64_t)timeout_ms * QST_NS_PER_MS;
	while (len > 0) {
		/* MSG_NOSIGNAL: a vanished far end is an error, not SIGPIPE. */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ret = wait_writable(fd, deadline);
			if (ret < 0) {
				qst_warn("%s: write of %zu bytes: %s",
					 t->description, len, qst_strerror(ret));
				return ret;
			}
			continue;
		}
		qst_err("%s: write failed: %s", t->description,
			n < 0 ? strerror(errno) : "no progress");
		return QST_ERR_IO;
	}
	return QST_OK;
}

static ssize_t pipe_read(struct qst_transport *t, void *buf, size_t cap,
			 int64_t *arrival_mono_ns)
{
	(void)arrival_mono_ns; /* the poll() wake time is as good as any */
	int fd = pipe_fd_of(t);
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n > 0)
			return n;
		if (n == 0) {
			qst_dbg("%s: far end closed", t->description);
			return QST_ERR_IO;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		qst_err("%s: read failed: %s", t->description, strerror(errno));
		return QST_ERR_IO;
	}
}

static int pipe_fd(struct qst_transport *t)
{
	return pipe_fd_of(t);
}

static void pipe_close(struct qst_transport *t)
{
	struct pipe_priv *priv = t->priv;
	if (priv && priv->fd >= 0)
		close(priv->fd);
	free(priv);
	free(t);
}

static const struct qst_transport_ops pipe_ops = {
	.name = "pipe",
	.write = pipe_write,
	.read = pipe_read,
	.fd = pipe_fd,
	.close = pipe_close,
};

int qst_transport_pipe_open(const char *name, struct qst_transport **out,
			    int *far_fd)
{
	if (!name || !out || !far_fd)
		return QST_ERR_ARG;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0) {
		qst_err("socketpair for %s: %s", name, strerror(errno));
		return QST_ERR_IO;
	}
	struct qst_transport *t = calloc(1, sizeof(*t));
	struct pipe_priv *priv = calloc(1, sizeof(*priv));
	if (!t || !priv) {
		free(t);
		free(priv);
		close(sv[0]);
		close(sv[1]);
		return QST_ERR_NOMEM;
	}
	priv->fd = sv[0];
	t->ops = &pipe_ops;
	t->priv = priv;
	snprintf(t->description, sizeof(t->description), "pipe:%s", name);
	*out = t;
	*far_fd = sv[1];
	qst_dbg("opened %s", t->description);
	return QST_OK;
}
