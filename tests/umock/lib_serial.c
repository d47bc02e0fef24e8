/*
 * Emulated USB-serial ports (see lib_serial.h): the verified recipe of
 * architecture.md, one USB device with one interface and one tty each.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "lib_serial.h"

UMockdevTestbed *qst_umock_testbed(void)
{
	return umockdev_testbed_new();
}

/*
 * Child first, blank line between records; the tty's `device` link is
 * spelled out because umockdev does not make it, and libserialport finds
 * the USB attributes through it.
 */
static int port_records(char *buf, size_t len, int n,
			const struct qst_umock_port *p)
{
	const char *root = "/devices/pci0000:00/0000:00:14.0/usb1";
	int w = snprintf(buf, len,
		"P: %s/1-%d/1-%d:1.0/tty/%s\n"
		"N: %s\n"
		"L: device=../../../1-%d:1.0\n"
		"E: DEVNAME=/dev/%s\n"
		"E: SUBSYSTEM=tty\n"
		"\n"
		"P: %s/1-%d/1-%d:1.0\n"
		"E: SUBSYSTEM=usb\n"
		"E: DEVTYPE=usb_interface\n"
		"E: DRIVER=%s\n"
		"\n"
		"P: %s/1-%d\n"
		"E: SUBSYSTEM=usb\n"
		"E: DEVTYPE=usb_device\n"
		"A: busnum=1\n"
		"A: devnum=%d\n"
		"A: idVendor=%04x\n"
		"A: idProduct=%04x\n"
		"A: manufacturer=%s\n"
		"A: product=%s\n",
		root, n, n, p->name, p->name, n, p->name,
		root, n, n, p->driver ? p->driver : "cdc_acm",
		root, n, n + 1, p->vid, p->pid,
		p->manufacturer ? p->manufacturer : "",
		p->product ? p->product : "");
	if (w > 0 && (size_t)w < len && p->serial)
		w += snprintf(buf + w, len - (size_t)w, "A: serial=%s\n",
			      p->serial);
	return w > 0 && (size_t)w < len ? 0 : -1;
}

int qst_umock_add_port(UMockdevTestbed *tb, int usb_port,
		       const struct qst_umock_port *p, char *syspath,
		       size_t syspath_len)
{
	char rec[2048], dev[64];
	if (!tb || !p || !p->name || usb_port < 1 || usb_port > 99 ||
	    port_records(rec, sizeof(rec), usb_port, p) < 0)
		return -1;
	GError *error = NULL;
	if (!umockdev_testbed_add_from_string(tb, rec, &error)) {
		fprintf(stderr, "umockdev: %s\n", error ? error->message : "?");
		g_clear_error(&error);
		return -1;
	}
	if (syspath)
		snprintf(syspath, syspath_len,
			 "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-%d",
			 usb_port);
	snprintf(dev, sizeof(dev), "/dev/%s", p->name);
	int master = umockdev_testbed_get_dev_fd(tb, dev);
	if (master < 0)
		return -1;
	/* The testbed's own descriptor must not be closed (umockdev docs);
	 * a simulator closes what it is given. */
	int fd = fcntl(master, F_DUPFD_CLOEXEC, 0);
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

void qst_umock_unplug(UMockdevTestbed *tb, const char *syspath)
{
	umockdev_testbed_remove_device(tb, syspath);
}

int qst_umock_hangup(UMockdevTestbed *tb, const char *devnode)
{
	int master = umockdev_testbed_get_dev_fd(tb, devnode);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (master < 0 || null < 0) {
		if (null >= 0)
			close(null);
		return -1;
	}
	int ret = dup2(null, master) < 0 ? -1 : 0;
	close(null);
	return ret;
}
