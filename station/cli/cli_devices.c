/*
 * qst devices: what the station can see — serial ports and USB devices,
 * each with the drivers that may serve it — and, with --probe, what each
 * candidate says when its driver identifies it (docs/serial.md). The probe
 * opens a one-device station through the same code `qst run` uses, so a
 * device that answers here answers there.
 */
#include <stdio.h>
#include <string.h>

#include "qst_cli.h"
#include "qst_serial.h"
#include "qst_station.h"
#include "qst_usb.h"

#define MAX_PORTS 64
#define MAX_USB 128
#define MAX_CANDIDATES 8

static const char devices_help[] =
	"usage: qst devices [--probe]\n"
	"\n"
	"Lists the serial ports and USB devices of this machine with their\n"
	"VID:PID, serial number and the qst drivers that may serve them. A\n"
	"generic USB-serial bridge (CH340, FTDI) carries many kinds of device,\n"
	"so a match is only a candidate: --probe opens each candidate with its\n"
	"driver, waits for it to identify itself (up to 3 s) and prints model,\n"
	"serial number and firmware, or why it did not answer. Probing sends\n"
	"identification queries only; no stimulus is ever started.\n"
	"A port you cannot open is a permission problem: see udev/60-qst.rules.\n"
	"Exit status 0, or 1 when the ports cannot be listed.\n";

/* The station role a driver's device class takes. */
static enum qst_role role_of(const struct qst_driver *d)
{
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		if (qst_role_class((enum qst_role)r) == d->dev_class)
			return (enum qst_role)r;
	return QST_ROLE_COUNT;
}

/* Open a one-device station with this driver and print what it says. */
static void probe(const struct qst_driver *d, const char *port,
		  const char *usb)
{
	enum qst_role role = role_of(d);
	if (role == QST_ROLE_COUNT)
		return;
	struct qst_station_config cfg = { .clock_mode = QST_CLOCK_REAL };
	struct qst_role_config *rc = &cfg.roles[role];
	snprintf(rc->driver, sizeof(rc->driver), "%s", d->name);
	snprintf(rc->port, sizeof(rc->port), "%s", port ? port : "");
	snprintf(rc->usb, sizeof(rc->usb), "%s", usb ? usb : "");
	struct qst_station *st;
	char err[512];
	int ret = qst_station_open(&cfg, &st, err, sizeof(err));
	if (ret < 0) {
		printf("      %-10s no: %s\n", d->name, err);
		return;
	}
	const struct qst_dev_info *info = &st->dev[role].info;
	/* Pads, pedals and trigger boxes have no serial number in their
	 * protocol (docs/devices.md): say so rather than print a bare "?"
	 * that reads like a failed query. */
	printf("      %-10s yes: %s, %s%s, firmware %s\n", d->name,
	       info->model[0] ? info->model : "?",
	       info->serial[0] ? "serial " : "no serial number reported",
	       info->serial, info->firmware[0] ? info->firmware : "?");
	qst_station_close(st);
}

static void print_candidates(const struct qst_driver **c, int n)
{
	printf("    drivers:");
	for (int i = 0; i < n; i++)
		printf(" %s", c[i]->name);
	printf(n ? "\n" : " none known for this VID:PID\n");
}

static int list_serial(bool do_probe)
{
	static struct qst_serial_info ports[MAX_PORTS];
	int n = qst_serial_enumerate(ports, MAX_PORTS);
	if (n < 0) {
		qst_cli_error("cannot list serial ports: %s", qst_strerror(n));
		return n;
	}
	printf("serial ports: %d\n", n);
	for (int i = 0; i < n; i++) {
		const struct qst_serial_info *p = &ports[i];
		printf("  %s  %s", p->path, qst_serial_transport_name(p->transport));
		if (p->transport == QST_SERIAL_USB)
			printf(" %04x:%04x serial \"%s\" %s %s", p->vid, p->pid,
			       p->serial, p->manufacturer, p->product);
		printf("\n");
		if (p->transport != QST_SERIAL_USB)
			continue;
		const struct qst_driver *c[MAX_CANDIDATES];
		int k = qst_drivers_for_usb(p->vid, p->pid, false, c, MAX_CANDIDATES);
		print_candidates(c, k);
		for (int j = 0; do_probe && j < k; j++)
			probe(c[j], p->path, NULL);
	}
	return QST_OK;
}

static int list_usb(bool do_probe)
{
	static struct qst_usb_info devs[MAX_USB];
	int n = qst_usb_enumerate(devs, MAX_USB);
	if (n < 0) {
		qst_cli_error("cannot list USB devices: %s", qst_strerror(n));
		return n;
	}
	printf("USB devices: %d\n", n);
	for (int i = 0; i < n; i++) {
		const struct qst_usb_info *u = &devs[i];
		printf("  %03u:%03u  %04x:%04x serial \"%s\" %s %s%s%s\n", u->bus,
		       u->address, u->vid, u->pid, u->serial, u->manufacturer,
		       u->product, u->usbtmc ? " [USB-TMC]" : "",
		       u->hid ? " [HID]" : "");
		const struct qst_driver *c[MAX_CANDIDATES];
		int k = qst_drivers_for_usb(u->vid, u->pid, u->usbtmc, c,
					    MAX_CANDIDATES);
		/* Serial bridges are probed as their ports above. */
		int usb_direct = 0;
		for (int j = 0; j < k; j++)
			if (c[j]->link.kind == QST_LINK_USB)
				c[usb_direct++] = c[j];
		if (!usb_direct)
			continue;
		print_candidates(c, usb_direct);
		char spec[96];
		snprintf(spec, sizeof(spec), "%04x:%04x%s%s", u->vid, u->pid,
			 u->serial[0] ? ":" : "", u->serial);
		for (int j = 0; do_probe && j < usb_direct; j++)
			probe(c[j], NULL, spec);
	}
	return QST_OK;
}

int qst_cli_devices(int argc, char **argv)
{
	bool do_probe = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(devices_help, stdout);
			return QST_EXIT_OK;
		}
		if (strcmp(argv[i], "--probe") != 0) {
			qst_cli_error("devices: unknown option '%s' (see --help)",
				      argv[i]);
			return QST_EXIT_USAGE;
		}
		do_probe = true;
	}
	int serial = list_serial(do_probe);
	int usb = list_usb(do_probe);
	return serial < 0 && usb < 0 ? QST_EXIT_ERROR : QST_EXIT_OK;
}
