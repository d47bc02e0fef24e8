/*
 * Emulated USB-serial ports for the umock tests (architecture.md, "Serial
 * (libserialport against an emulated USB-serial port)"): each port is the
 * three sysfs records of that recipe -- tty, USB interface, USB device --
 * and a PTY-backed /dev node whose far end the test serves.
 */
#ifndef QST_TESTS_UMOCK_LIB_SERIAL_H
#define QST_TESTS_UMOCK_LIB_SERIAL_H

#include <stdint.h>

#include <umockdev.h>

struct qst_umock_port {
	const char *name;          /* "ttyACM0" */
	uint16_t vid, pid;
	const char *serial;        /* NULL: the device has none */
	const char *manufacturer;
	const char *product;
	const char *driver;        /* "cdc_acm", "ch341", "ftdi_sio" */
};

/* The testbed: one per test, g_object_unref() it after. */
UMockdevTestbed *qst_umock_testbed(void);

/*
 * Add one emulated port at USB bus position 1-usb_port (1..99, one per
 * port). Returns the far end, a non-blocking duplicate of the PTY master
 * that the caller owns and closes (the testbed keeps its own); -1 on
 * failure. *syspath (may be NULL) receives the USB device's sysfs path,
 * for qst_umock_unplug().
 */
int qst_umock_add_port(UMockdevTestbed *tb, int usb_port,
		       const struct qst_umock_port *p, char *syspath,
		       size_t syspath_len);

/* Pull the USB device out: its sysfs records, the tty and the /dev node
 * go (umockdev_testbed_remove_device). */
void qst_umock_unplug(UMockdevTestbed *tb, const char *syspath);

/*
 * Hang the port up, as a USB-serial unplug does to its tty: the pty's
 * master closes, so the tested program's reads see the hang-up. umockdev
 * keeps the master open through remove_device and beyond, and its
 * descriptor must not be closed under it, so /dev/null is put in its
 * place (the number stays valid for umockdev). Far ends handed out by
 * qst_umock_add_port must be closed first. 0, or -1 if devnode has none.
 */
int qst_umock_hangup(UMockdevTestbed *tb, const char *devnode);

#endif
