/*
 * Serial ports the station can see, for `qst devices` and for choosing a
 * port by USB identity (drivers/transport_serial.c, docs/serial.md).
 * Opening a port is qst_transport_serial_open() in qst_drivers.h.
 */
#ifndef QST_DRIVERS_QST_SERIAL_H
#define QST_DRIVERS_QST_SERIAL_H

#include <stdint.h>

/* How the port is attached (libserialport's enum sp_transport). */
enum qst_serial_transport {
	QST_SERIAL_NATIVE = 0,    /* on-board UART, or unknown */
	QST_SERIAL_USB = 1,       /* USB-serial bridge or CDC-ACM */
	QST_SERIAL_BLUETOOTH = 2,
};

struct qst_serial_info {
	char path[128];          /* "/dev/ttyUSB0" */
	char description[128];   /* libserialport's one-line description */
	int transport;           /* enum qst_serial_transport */
	uint16_t vid, pid;       /* USB only, else 0 */
	char serial[64];         /* USB only, "" when the device has none */
	char manufacturer[64];
	char product[64];
};

/*
 * Fill out[0..max) with the serial ports present, in libserialport's
 * order. Returns how many were filled (more ports than max: the first max,
 * with a warning), or QST_ERR_IO when the ports cannot be listed.
 */
int qst_serial_enumerate(struct qst_serial_info *out, int max);

/* "native", "usb" or "bluetooth". */
const char *qst_serial_transport_name(int transport);

#endif
