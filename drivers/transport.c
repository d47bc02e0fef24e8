/*
 * Transport wrappers: every driver reaches its device through these, so a
 * serial port, a USB endpoint or an in-process pipe look the same to it.
 */
#define LOG_PREFIX "transport: "

#include "qst_drivers.h"

int qst_transport_write(struct qst_transport *t, const void *buf, size_t len,
			unsigned timeout_ms)
{
	if (!t || !t->ops || (!buf && len > 0))
		return QST_ERR_ARG;
	if (len == 0)
		return QST_OK;
	return t->ops->write(t, buf, len, timeout_ms);
}

ssize_t qst_transport_read(struct qst_transport *t, void *buf, size_t cap)
{
	if (!t || !t->ops || !buf)
		return QST_ERR_ARG;
	if (cap == 0)
		return 0;
	return t->ops->read(t, buf, cap);
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
