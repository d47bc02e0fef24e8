/*
 * An emulated USB device for the driver tests: usbfs answered in-process
 * through umockdev's ioctl handler (architecture.md, "USB (libusb against
 * an emulated device, the way libusb's own tests do it)"), so the real
 * libusb and the real transport run against it under umockdev-wrapper.
 *
 * The device is a descriptor blob (device descriptor followed by the full
 * configuration) plus string descriptors 1..3. Control transfers for
 * GET_DESCRIPTOR are answered from those; OUT transfers go to a hook;
 * IN transfers are completed from a queue the test fills, or from a
 * callback when the queue is empty. Hooks run on umockdev's ioctl thread.
 */
#ifndef QST_TESTS_UMOCK_LIB_USB_H
#define QST_TESTS_UMOCK_LIB_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umockdev.h>

struct qst_umock_usb;

/* A bulk or interrupt OUT transfer's payload, as the host sent it. */
typedef void (*qst_umock_usb_out_fn)(void *user, uint8_t ep,
				     const uint8_t *data, size_t len);
/* Data for a pending IN transfer on ep when the queue is empty: fill up
 * to cap bytes and return how many; 0 leaves the transfer pending. */
typedef size_t (*qst_umock_usb_in_fn)(void *user, uint8_t ep, uint8_t *buf,
				      size_t cap);

struct qst_umock_usb_config {
	int busnum;                 /* /dev/bus/usb/BBB/DDD */
	int devnum;
	const uint8_t *descriptors; /* device descriptor + configuration */
	size_t descriptors_len;
	const char *manufacturer;   /* string descriptor 1, or NULL */
	const char *product;        /* string descriptor 2, or NULL */
	const char *serial;         /* string descriptor 3, or NULL */
	qst_umock_usb_out_fn on_out;
	qst_umock_usb_in_fn on_in;
	void *user;
};

/* Attach the ioctl handler, then add the device to the testbed. */
struct qst_umock_usb *qst_umock_usb_add(UMockdevTestbed *tb,
					const struct qst_umock_usb_config *cfg);
/* Queue the data of one IN transfer (one HID report). */
void qst_umock_usb_push_in(struct qst_umock_usb *u, const void *data,
			   size_t len);
/* IN data queued and not yet taken by the host. */
size_t qst_umock_usb_in_queued(struct qst_umock_usb *u);
/* OUT transfers the host sent so far. */
unsigned long qst_umock_usb_out_count(struct qst_umock_usb *u);
/* Interfaces claimed and not released. */
int qst_umock_usb_claimed(struct qst_umock_usb *u);
/* Pull the plug: pending transfers end with -ENODEV, new ones fail. */
void qst_umock_usb_unplug(struct qst_umock_usb *u);
void qst_umock_usb_free(struct qst_umock_usb *u);

#endif
