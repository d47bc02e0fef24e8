/*
 * Transport wrappers: every driver reaches its device through these, so a
 * serial port, a USB endpoint or an in-process pipe look the same to it.
 */
#define LOG_PREFIX "transport: "

#include "qst_drivers.h"
#include "qst_wirelog.h"

int qst_transport_write(struct qst_transport *t, const void *buf, size_t len,
			unsigned timeout_ms)
{
	if (!t || !t->ops || (!buf && len > 0))
		return QST_ERR_ARG;
	if (len == 0)
		return QST_OK;
	int ret = t->ops->write(t, buf, len, timeout_ms);
	if (t->wirelog)
		qst_wirelog_add(t->wirelog, t->wire_role, QST_WIRE_TX, buf, len,
				ret);
	return ret;
}

ssize_t qst_transport_read(struct qst_transport *t, void *buf, size_t cap,
			   int64_t *arrival_mono_ns)
{
	int64_t ignored = 0;
	if (!arrival_mono_ns)
		arrival_mono_ns = &ignored;
	if (!t || !t->ops || !buf)
		return QST_ERR_ARG;
	if (cap == 0)
		return 0;
	ssize_t n = t->ops->read(t, buf, cap, arrival_mono_ns);
	/* Nothing waiting is not a chunk; an error is, so the log shows
	 * where a link was lost. */
	if (t->wirelog && n != 0)
		qst_wirelog_add(t->wirelog, t->wire_role, QST_WIRE_RX, buf,
				n > 0 ? (size_t)n : 0, n > 0 ? QST_OK : (int)n);
	return n;
}

int qst_transport_fd(struct qst_transport *t)
{
	if (!t || !t->ops || !t->ops->fd)
		return -1;
	return t->ops->fd(t);
}

void qst_transport_close(struct qst_transport *t)
{
	if (!t || !t->ops)
		return;
	qst_dbg("closing %s", t->description);
	t->ops->close(t);
}
