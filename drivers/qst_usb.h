/*
 * USB devices seen through libusb, for `qst devices` (drivers/transport_usb.c).
 * Opening one as a transport is qst_transport_usb_open() in qst_drivers.h.
 */
#ifndef QST_DRIVERS_QST_USB_H
#define QST_DRIVERS_QST_USB_H

#include <stdbool.h>
#include <stdint.h>

#include "qst_core.h"

struct qst_usb_info {
	uint16_t vid, pid;
	uint8_t bus, address;
	/* String descriptors; empty when the device could not be opened
	 * (no permission) or has none. */
	char serial[64], manufacturer[64], product[64];
	bool usbtmc;  /* has an interface of class 0xFE subclass 0x03 */
	bool hid;     /* has an interface of class 3 (HID) */
};

/*
 * Fill out with the USB devices present, at most max of them; returns
 * how many were filled, or a negative qst_err (QST_ERR_ARG, QST_ERR_IO
 * when libusb cannot be initialised or list the bus).
 */
int qst_usb_enumerate(struct qst_usb_info *out, int max);

#endif
