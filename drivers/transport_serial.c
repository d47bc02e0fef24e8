/*
 * The serial transport (docs/serial.md): a USB-serial bridge or CDC-ACM
 * port through libserialport, chosen by path or by USB identity, framed as
 * the device needs with no flow control.
 *
 * One exception to libserialport: a pseudo-terminal. sp_open issues
 * TIOCMGET, which a pty refuses (architecture.md, "Serial (libserialport
 * against an emulated USB-serial port)"), so a pty path is opened directly
 * and put in raw mode. That path exists for `qst simulate`, which serves a
 * simulated device on a pty; no lab device is a pty. Its description reads
 * "pty:PATH".
 */
#define LOG_PREFIX "transport-serial: "

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/major.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <libserialport.h>

#include "qst_drivers.h"
#include "qst_serial.h"

#define UDEV_HINT "install udev/60-qst.rules and add the station user to " \
		  "group plugdev, then log in again (docs/serial.md)"

struct serial_priv {
	struct sp_port *port; /* NULL on the pty path */
	int fd;
};

static struct serial_priv *priv_of(struct qst_transport *t)
{
	return t->priv;
}

/* ------------------------------------------------------------ error text */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put the reason in err for the caller and in the log for the record. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	qst_err("%s", msg);
	if (err && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* libserialport's text for the last SP_ERR_FAIL, and its errno. */
static int sp_detail(char *buf, size_t len)
{
	int code = sp_last_error_code();
	char *msg = sp_last_error_message();
	snprintf(buf, len, "%s", msg ? msg : strerror(code));
	if (msg)
		sp_free_error_message(msg);
	return code;
}

/* Why a port could not be opened, in words an operator can act on. */
static void explain_open_failure(const char *path, int code,
				 const char *detail, char *err, size_t errlen)
{
	if (code == EACCES || code == EPERM)
		set_err(err, errlen, "%s: permission denied (%s); %s", path,
			detail, UDEV_HINT);
	else if (code == EBUSY)
		set_err(err, errlen, "%s: busy, another program has the port "
			"open (%s)", path, detail);
	else if (code == ENOENT || code == ENODEV || code == ENXIO)
		set_err(err, errlen, "%s: no such port (%s); `qst devices` "
			"lists the ports present", path, detail);
	else
		set_err(err, errlen, "%s: cannot open: %s", path, detail);
}

/* ---------------------------------------------------------- shared I/O */

/* True when the port is gone: a USB-serial device that was unplugged, or
 * the far end of a pty that closed. Their reads say 0 and poll says HUP. */
static bool hung_up(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;
	do
		n = poll(&pfd, 1, 0);
	while (n < 0 && errno == EINTR);
	return n > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static ssize_t serial_read(struct qst_transport *t, void *buf, size_t cap,
			   int64_t *arrival_mono_ns)
{
	(void)arrival_mono_ns; /* the poll() wake time is as good as any */
	struct serial_priv *p = priv_of(t);
	ssize_t n;
	if (p->port) {
		n = sp_nonblocking_read(p->port, buf, cap);
		if (n < 0) {
			char detail[256];
			sp_detail(detail, sizeof(detail));
			qst_err("%s: read failed: %s", t->description, detail);
			return QST_ERR_IO;
		}
	} else {
		do
			n = read(p->fd, buf, cap);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			qst_err("%s: read failed: %s", t->description,
				strerror(errno));
			return QST_ERR_IO;
		}
	}
	if (n == 0 && hung_up(p->fd)) {
		qst_err("%s: device gone (hang-up)", t->description);
		return QST_ERR_IO;
	}
	return n;
}

static int sp_write(struct qst_transport *t, const void *buf, size_t len,
		    unsigned timeout_ms)
{
	struct serial_priv *p = priv_of(t);
	/* To libserialport a timeout of 0 means forever; to us, right now. */
	int n = timeout_ms ? sp_blocking_write(p->port, buf, len, timeout_ms)
			   : sp_nonblocking_write(p->port, buf, len);
	if (n < 0) {
		char detail[256];
		sp_detail(detail, sizeof(detail));
		qst_err("%s: write failed: %s", t->description, detail);
		return QST_ERR_IO;
	}
	if ((size_t)n < len) {
		qst_warn("%s: wrote %d of %zu bytes in %u ms", t->description,
			 n, len, timeout_ms);
		return QST_ERR_TIMEOUT;
	}
	return QST_OK;
}

/* Wait until fd takes bytes again; false once deadline_ns has passed.
 * A signal (-1, EINTR) counts as ready: the write loop tries again. */
static bool wait_writable(int fd, int64_t deadline_ns)
{
	int64_t left = deadline_ns - qst_monotonic_ns();
	if (left <= 0)
		return false;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	return poll(&pfd, 1, (int)((left + QST_NS_PER_MS - 1) / QST_NS_PER_MS)) != 0;
}

static int pty_write(struct qst_transport *t, const void *buf, size_t len,
		     unsigned timeout_ms)
{
	int fd = priv_of(t)->fd;
	const uint8_t *b = buf;
	int64_t deadline = qst_monotonic_ns() +
			   (int64_t)timeout_ms * QST_NS_PER_MS;
	while (len > 0) {
		ssize_t n = write(fd, b, len);
		if (n > 0) {
			b += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			qst_err("%s: write failed: %s", t->description,
				strerror(errno));
			return QST_ERR_IO;
		}
		if (!wait_writable(fd, deadline)) {
			qst_warn("%s: %zu bytes not written in %u ms",
				 t->description, len, timeout_ms);
			return QST_ERR_TIMEOUT;
		}
	}
	return QST_OK;
}

static int serial_fd(struct qst_transport *t)
{
	return priv_of(t)->fd;
}

static void serial_close(struct qst_transport *t)
{
	struct serial_priv *p = priv_of(t);
	if (p && p->port) {
		sp_close(p->port);
		sp_free_port(p->port);
	} else if (p && p->fd >= 0) {
		close(p->fd);
	}
	free(p);
	free(t);
}

static const struct qst_transport_ops serial_ops = {
	.name = "serial",
	.write = sp_write,
	.read = serial_read,
	.fd = serial_fd,
	.close = serial_close,
};

static const struct qst_transport_ops pty_ops = {
	.name = "pty",
	.write = pty_write,
	.read = serial_read,
	.fd = serial_fd,
	.close = serial_close,
};

static int new_transport(const struct qst_transport_ops *ops,
			 struct sp_port *port, int fd, const char *what,
			 const char *path, struct qst_transport **out)
{
	struct qst_transport *t = calloc(1, sizeof(*t));
	struct serial_priv *p = calloc(1, sizeof(*p));
	if (!t || !p) {
		free(t);
		free(p);
		return QST_ERR_NOMEM;
	}
	p->port = port;
	p->fd = fd;
	t->ops = ops;
	t->priv = p;
	snprintf(t->description, sizeof(t->description), "%s%s", what, path);
	*out = t;
	return QST_OK;
}

/* ------------------------------------------------------ the pty path */

/*
 * A UNIX98 pty slave (/dev/pts/N, majors 136..143 in linux/major.h) that
 * sysfs does not list as a tty device. umockdev's emulated USB-serial
 * ports are ptys underneath, but their sysfs entry makes them ports to
 * libserialport, and so they go that way, as real ones do.
 */
static bool is_bare_pty(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
		return false;
	unsigned maj = major(st.st_rdev);
	if (maj < UNIX98_PTY_SLAVE_MAJOR ||
	    maj >= UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT)
		return false;
	char copy[PATH_MAX], sys[PATH_MAX + 32];
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(sys, sizeof(sys), "/sys/class/tty/%s", basename(copy));
	return !qst_path_taken(sys);
}

static speed_t speed_of(int baud)
{
	switch (baud) {
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 115200: return B115200;
	case 230400: return B230400;
	default: return B0;
	}
}

/* Raw bytes both ways: no echo, no line editing, no CR/NL mapping. */
static int pty_raw(int fd, const struct qst_serial_params *sp)
{
	struct termios tio;
	if (tcgetattr(fd, &tio) != 0)
		return -1;
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	/* A pty has no line rate; set it anyway so tcgetattr tells the
	 * truth about what the client asked for. */
	speed_t s = speed_of(sp->baud);
	if (s != B0) {
		cfsetispeed(&tio, s);
		cfsetospeed(&tio, s);
	}
	if (tcsetattr(fd, TCSANOW, &tio) != 0)
		return -1;
	/* What the simulator said before we came is stale. */
	tcflush(fd, TCIFLUSH);
	return 0;
}

static int open_pty(const char *path, const struct qst_serial_params *sp,
		    struct qst_transport **out, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int code = errno;
		explain_open_failure(path, code, strerror(code), err, errlen);
		return QST_ERR_IO;
	}
	if (pty_raw(fd, sp) != 0) {
		set_err(err, errlen, "%s: cannot set raw mode: %s", path,
			strerror(errno));
		close(fd);
		return QST_ERR_IO;
	}
	int ret = new_transport(&pty_ops, NULL, fd, "pty:", path, out);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	qst_info("opened %s (pseudo-terminal: the simulator path)", path);
	return QST_OK;
}

/* ------------------------------------------------- libserialport path */

static enum sp_parity parity_of(char c)
{
	switch (c) {
	case 'N': case 'n': return SP_PARITY_NONE;
	case 'E': case 'e': return SP_PARITY_EVEN;
	case 'O': case 'o': return SP_PARITY_ODD;
	default: return SP_PARITY_INVALID;
	}
}

static int check_params(const struct qst_serial_params *sp, char *err,
			size_t errlen)
{
	if (sp->baud <= 0 || sp->data_bits < 5 || sp->data_bits > 8 ||
	    parity_of(sp->parity) == SP_PARITY_INVALID ||
	    (sp->stop_bits != 1 && sp->stop_bits != 2)) {
		char par = sp->parity > ' ' && sp->parity < 127 ? sp->parity : '?';
		set_err(err, errlen, "bad framing: %d baud, %d data bits, "
			"parity %c, %d stop bits (want e.g. 115200 8N1)",
			sp->baud, sp->data_bits, par, sp->stop_bits);
		return QST_ERR_ARG;
	}
	return QST_OK;
}

/* Framing as the device needs it, and nothing on the flow-control lines. */
static int configure(struct sp_port *port, const char *path,
		     const struct qst_serial_params *sp, char *err,
		     size_t errlen)
{
	enum sp_return r;
	const char *what;
	if ((r = sp_set_baudrate(port, sp->baud)) != SP_OK)
		what = "baud rate";
	else if ((r = sp_set_bits(port, sp->data_bits)) != SP_OK)
		what = "data bits";
	else if ((r = sp_set_parity(port, parity_of(sp->parity))) != SP_OK)
		what = "parity";
	else if ((r = sp_set_stopbits(port, sp->stop_bits)) != SP_OK)
		what = "stop bits";
	else if ((r = sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE)) != SP_OK)
		what = "flow control";
	else
		return QST_OK;
	char detail[256];
	if (r == SP_ERR_FAIL)
		sp_detail(detail, sizeof(detail));
	else
		snprintf(detail, sizeof(detail), "not supported (%d)", r);
	set_err(err, errlen, "%s: cannot set %s: %s", path, what, detail);
	return QST_ERR_IO;
}

static int open_sp(const char *path, const struct qst_serial_params *sp,
		   struct qst_transport **out, char *err, size_t errlen)
{
	struct sp_port *port = NULL;
	char detail[256];
	if (sp_get_port_by_name(path, &port) != SP_OK) {
		int code = sp_detail(detail, sizeof(detail));
		explain_open_failure(path, code ? code : ENOENT, detail, err,
				     errlen);
		return QST_ERR_NOTFOUND;
	}
	if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
		int code = sp_detail(detail, sizeof(detail));
		explain_open_failure(path, code, detail, err, errlen);
		sp_free_port(port);
		return code == ENOENT || code == ENODEV ? QST_ERR_NOTFOUND :
							  QST_ERR_IO;
	}
	int fd = -1;
	int ret = configure(port, path, sp, err, errlen);
	if (ret == QST_OK && sp_get_port_handle(port, &fd) != SP_OK) {
		set_err(err, errlen, "%s: no file descriptor to poll", path);
		ret = QST_ERR_IO;
	}
	/* One station per thermode: a second opener gets EBUSY. */
	if (ret == QST_OK && ioctl(fd, TIOCEXCL) != 0)
		qst_dbg("%s: no exclusive use: %s", path, strerror(errno));
	if (ret == QST_OK)
		ret = new_transport(&serial_ops, port, fd, "", path, out);
	if (ret < 0) {
		sp_close(port);
		sp_free_port(port);
		return ret;
	}
	qst_info("opened %s at %d %d%c%d", path, sp->baud, sp->data_bits,
		 sp->parity, sp->stop_bits);
	return QST_OK;
}

/* ------------------------------------------------------ usb:VID:PID */

struct usb_spec {
	unsigned vid, pid;
	char serial[64]; /* "" = any */
};

static int parse_usb_spec(const char *spec, struct usb_spec *u, char *err,
			  size_t errlen)
{
	memset(u, 0, sizeof(*u));
	const char *p = spec + 4; /* past "usb:" */
	char *end;
	unsigned long v[2];
	for (int i = 0; i < 2; i++) {
		errno = 0;
		v[i] = strtoul(p, &end, 16);
		if (errno || end == p || end - p > 4 ||
		    (*end != ':' && *end != '\0') || (i == 0 && *end != ':')) {
			set_err(err, errlen, "'%s': want usb:VID:PID[:SERIAL] "
				"with VID and PID in hex (e.g. usb:1a86:7523)",
				spec);
			return QST_ERR_ARG;
		}
		p = *end ? end + 1 : end;
	}
	if (strlen(p) >= sizeof(u->serial)) {
		set_err(err, errlen, "'%s': serial number too long", spec);
		return QST_ERR_ARG;
	}
	u->vid = (unsigned)v[0];
	u->pid = (unsigned)v[1];
	snprintf(u->serial, sizeof(u->serial), "%s", p);
	return QST_OK;
}

static bool port_matches(struct sp_port *port, const struct usb_spec *u)
{
	int vid, pid;
	if (sp_get_port_transport(port) != SP_TRANSPORT_USB ||
	    sp_get_port_usb_vid_pid(port, &vid, &pid) != SP_OK ||
	    (unsigned)vid != u->vid || (unsigned)pid != u->pid)
		return false;
	if (!u->serial[0])
		return true;
	const char *s = sp_get_port_usb_serial(port);
	return s && strcmp(s, u->serial) == 0;
}

/*
 * The one port with this identity. Two without a serial to tell them
 * apart is refused: the wrong thermode is worse than none.
 */
static int find_usb_port(const char *spec, char *path, size_t pathlen,
			 char *err, size_t errlen)
{
	struct usb_spec u;
	int ret = parse_usb_spec(spec, &u, err, errlen);
	if (ret < 0)
		return ret;
	struct sp_port **list;
	if (sp_list_ports(&list) != SP_OK) {
		char detail[256];
		sp_detail(detail, sizeof(detail));
		set_err(err, errlen, "cannot list serial ports: %s", detail);
		return QST_ERR_IO;
	}
	int found = 0;
	for (size_t i = 0; list[i]; i++) {
		if (!port_matches(list[i], &u))
			continue;
		if (found++ == 0)
			snprintf(path, pathlen, "%s", sp_get_port_name(list[i]));
	}
	sp_free_port_list(list);
	if (found == 1) {
		qst_dbg("%s is %s", spec, path);
		return QST_OK;
	}
	if (found == 0)
		set_err(err, errlen, "no serial port with USB id %04x:%04x%s%s "
			"(is it plugged in? `qst devices` lists the ports "
			"present)", u.vid, u.pid, u.serial[0] ? " serial " : "",
			u.serial);
	else
		set_err(err, errlen, "%d serial ports have USB id %04x:%04x%s%s;"
			" add :SERIAL to choose one (`qst devices` shows "
			"them)", found, u.vid, u.pid,
			u.serial[0] ? " serial " : "", u.serial);
	return QST_ERR_NOTFOUND;
}

int qst_transport_serial_open(const char *spec,
			      const struct qst_serial_params *params,
			      struct qst_transport **out, char *err,
			      size_t errlen)
{
	static const struct qst_serial_params defaults = {
		.baud = 115200, .data_bits = 8, .parity = 'N', .stop_bits = 1,
	};
	if (err && errlen > 0)
		err[0] = '\0';
	if (!spec || !spec[0] || !out) {
		set_err(err, errlen, "no serial port given");
		return QST_ERR_ARG;
	}
	const struct qst_serial_params *sp = params ? params : &defaults;
	int ret = check_params(sp, err, errlen);
	if (ret < 0)
		return ret;
	char path[PATH_MAX];
	if (strncmp(spec, "usb:", 4) == 0) {
		ret = find_usb_port(spec, path, sizeof(path), err, errlen);
		if (ret < 0)
			return ret;
	} else {
		snprintf(path, sizeof(path), "%s", spec);
	}
	if (is_bare_pty(path))
		return open_pty(path, sp, out, err, errlen);
	return open_sp(path, sp, out, err, errlen);
}

/* ---------------------------------------------------------- enumerate */

const char *qst_serial_transport_name(int transport)
{
	switch (transport) {
	case QST_SERIAL_USB: return "usb";
	case QST_SERIAL_BLUETOOTH: return "bluetooth";
	default: return "native";
	}
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void describe_port(struct sp_port *port, struct qst_serial_info *in)
{
	memset(in, 0, sizeof(*in));
	copy_str(in->path, sizeof(in->path), sp_get_port_name(port));
	copy_str(in->description, sizeof(in->description),
		 sp_get_port_description(port));
	switch (sp_get_port_transport(port)) {
	case SP_TRANSPORT_USB:
		in->transport = QST_SERIAL_USB;
		break;
	case SP_TRANSPORT_BLUETOOTH:
		in->transport = QST_SERIAL_BLUETOOTH;
		break;
	default:
		in->transport = QST_SERIAL_NATIVE;
		return;
	}
	if (in->transport != QST_SERIAL_USB)
		return;
	int vid, pid;
	if (sp_get_port_usb_vid_pid(port, &vid, &pid) == SP_OK) {
		in->vid = (uint16_t)vid;
		in->pid = (uint16_t)pid;
	}
	copy_str(in->serial, sizeof(in->serial), sp_get_port_usb_serial(port));
	copy_str(in->manufacturer, sizeof(in->manufacturer),
		 sp_get_port_usb_manufacturer(port));
	copy_str(in->product, sizeof(in->product),
		 sp_get_port_usb_product(port));
}

int qst_serial_enumerate(struct qst_serial_info *out, int max)
{
	if (max < 0 || (max > 0 && !out))
		return QST_ERR_ARG;
	struct sp_port **list;
	if (sp_list_ports(&list) != SP_OK) {
		char detail[256];
		sp_detail(detail, sizeof(detail));
		qst_err("cannot list serial ports: %s", detail);
		return QST_ERR_IO;
	}
	int n = 0;
	size_t total = 0;
	for (; list[total]; total++)
		if (n < max)
			describe_port(list[total], &out[n++]);
	sp_free_port_list(list);
	if (total > (size_t)n)
		qst_warn("%zu serial ports, listing the first %d", total, n);
	return n;
}
