/*
 * A station of real devices: each role's driver on its serial port or USB
 * device, as the station file names them (docs/station-config.md). The
 * rest — the queue, the I/O thread that stamps bytes on arrival, the
 * identification handshake — is the same code the simulated station runs.
 */
#define LOG_PREFIX "station: "

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "station_internal.h"

/* The serial port spec the transport takes: a path, or usb:VID:PID[:SN]. */
static void serial_spec(const struct qst_role_config *rc, char *spec,
			size_t len)
{
	if (rc->port[0])
		snprintf(spec, len, "%s", rc->port);
	else
		snprintf(spec, len, "usb:%s", rc->usb);
}

static int open_transport(const struct qst_driver *drv,
			  const struct qst_role_config *rc,
			  struct qst_transport **out, char *err, size_t errlen)
{
	if (drv->link.kind == QST_LINK_USB) {
		if (!rc->usb[0]) {
			snprintf(err, errlen, "%s is a USB device: give usb = "
				 "\"VID:PID\" rather than a port", drv->name);
			return QST_ERR_ARG;
		}
		return qst_transport_usb_open(rc->usb, drv->link.usb, out, err,
					      errlen);
	}
	struct qst_serial_params params = drv->link.serial;
	if (rc->baud > 0)
		params.baud = rc->baud;
	char spec[160];
	serial_spec(rc, spec, sizeof(spec));
	return qst_transport_serial_open(spec, &params, out, err, errlen);
}

static int open_role(struct qst_station *st, enum qst_role role,
		     const struct qst_role_config *rc, char *errbuf,
		     size_t errlen)
{
	const char *name = qst_role_name(role);
	if (!strcmp(rc->driver, "sim")) {
		snprintf(errbuf, errlen, "roles.%s: a simulated device cannot "
			 "join a station of real devices (the virtual participant "
			 "feels only a simulated thermode); use a real driver or "
			 "driver = \"none\"", name);
		return QST_ERR_ARG;
	}
	const struct qst_driver *drv = qst_driver_find(rc->driver);
	if (!drv || drv->dev_class != qst_role_class(role)) {
		snprintf(errbuf, errlen, "roles.%s: no %s driver named '%s'",
			 name, name, rc->driver);
		return QST_ERR_NOTFOUND;
	}
	char why[256] = "";
	struct qst_dev *dev = &st->dev[role];
	int ret = open_transport(drv, rc, &dev->transport, why, sizeof(why));
	if (ret < 0) {
		snprintf(errbuf, errlen, "roles.%s: cannot open %s on %s: %s",
			 name, drv->longname, rc->port[0] ? rc->port : rc->usb,
			 why[0] ? why : qst_strerror(ret));
		/* A device that cannot be reached is a device error (exit 4),
		 * whatever the port said. */
		return ret == QST_ERR_ARG ? ret : QST_ERR_DEVICE;
	}
	dev->driver = drv;
	return qst_station_attach(st, role, errbuf, errlen);
}

static int connect_participant(struct qst_station *st, const char *path,
			       char *errbuf, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	st->link_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (st->link_fd < 0 ||
	    connect(st->link_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		snprintf(errbuf, errlen, "participant link %s: %s", path,
			 strerror(errno));
		return QST_ERR_IO;
	}
	return QST_OK;
}

int qst_station_open_real(const struct qst_station_config *cfg,
			  struct qst_station **out, char *errbuf,
			  size_t errlen)
{
	if (cfg->clock_mode != QST_CLOCK_REAL) {
		snprintf(errbuf, errlen, "real devices run on the real clock "
			 "(drop --clock virtual)");
		return QST_ERR_ARG;
	}
	struct qst_station *st = qst_station_new(cfg);
	if (!st)
		return QST_ERR_NOMEM;
	int ret = cfg->participant_link[0] ?
			  connect_participant(st, cfg->participant_link, errbuf,
					      errlen) : QST_OK;
	for (int r = 0; r < QST_ROLE_COUNT && ret == QST_OK; r++) {
		const struct qst_role_config *rc = &cfg->roles[r];
		if (rc->driver[0] && strcmp(rc->driver, "none") != 0)
			ret = open_role(st, (enum qst_role)r, rc, errbuf, errlen);
	}
	if (ret == QST_OK)
		ret = qst_station_start(st, errbuf, errlen);
	if (ret < 0) {
		qst_station_close(st);
		return ret;
	}
	*out = st;
	return QST_OK;
}
