/*
 * qst drivers — transports, the driver vtable, and the events drivers emit.
 *
 * A driver is a static `struct qst_driver` (see drivers/registry.c). Each
 * driver keeps its wire-protocol code (encode commands, parse the byte
 * stream) in protocol.c, apart from the I/O glue in api.c, as libsigrok
 * splits api.c and protocol.c. Drivers know nothing of protocols, sessions
 * or HDF5: they turn bytes into timestamped events and class operations
 * into bytes.
 */
#ifndef QST_DRIVERS_QST_DRIVERS_H
#define QST_DRIVERS_QST_DRIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "qst_core.h"

/* ---------------------------------------------------------------- events */

enum qst_event_type {
	QST_EV_NONE = 0,
	QST_EV_TEMPERATURE = 1, /* thermode readback sample */
	QST_EV_BUTTON = 2,      /* response key pressed or released */
	QST_EV_DEVICE_TEXT = 3, /* a reply line from a device (identity, read-back) */
	QST_EV_DEVICE_FAULT = 4,
	QST_EV_PRESSURE = 5,    /* algometer reading */
	QST_EV_LINK_NOISE = 6,  /* the driver discarded corrupt bytes to resync */
	QST_EV_RATING = 7,      /* a rating slider sample (eVAS) */
	QST_EV_SYNC = 8,        /* a trigger code went out on the sync line */
};

#define QST_THERMODE_ZONES 5

struct qst_temp_reading {
	double neutral_c;                  /* thermode's neutral/reference */
	double zone_c[QST_THERMODE_ZONES]; /* per-zone measured temperature */
};

struct qst_button_reading {
	int key;            /* 1..8, as the device numbers them */
	bool pressed;       /* false = release */
	int64_t device_rt_ms; /* device's own timer since last reset, -1 if none */
};

struct qst_pressure_reading {
	double force_n;       /* as the gauge reports it, converted to N */
	double kpa;           /* force over the configured probe area */
};

/*
 * A rating slider sample. The eVAS range is a documented gap (devices.md
 * G5): value is what the device sent, scaled to 0..100 by the driver's
 * configured full scale; raw keeps the number as sent. A marker (`L`,
 * `C`, `R`, the `999` sentinel) has marker set and no value (NaN).
 */
struct qst_rating_reading {
	double value;     /* 0..100, NaN for a marker */
	int32_t raw;      /* the integer as sent, or -1 */
	char marker;      /* 'L', 'C', 'R', 'S' (999 sentinel) or 0 */
};

/* A trigger code written to the sync line (TTL box). */
struct qst_sync_reading {
	uint8_t code;     /* the byte sent; 0 = the reset after the pulse */
	int32_t pulse_ms; /* how long the code is held before 0x00 */
};

#define QST_EVENT_TEXT_MAX 96

struct qst_event {
	int64_t t_ns;            /* host arrival time on the session clock */
	enum qst_event_type type;
	int device;              /* index of the device in the station */
	union {
		struct qst_temp_reading temp;
		struct qst_button_reading button;
		struct qst_pressure_reading pressure;
		struct qst_rating_reading rating;
		struct qst_sync_reading sync;
		uint64_t noise_bytes; /* LINK_NOISE: discarded in this chunk */
		char text[QST_EVENT_TEXT_MAX];
	} u;
};

/* Where drivers deliver events. */
typedef void (*qst_event_sink_fn)(const struct qst_event *ev, void *user);

struct qst_event_sink {
	qst_event_sink_fn fn;
	void *user;
};

/* ------------------------------------------------------------- transports */

struct qst_transport;
struct qst_wirelog;

struct qst_transport_ops {
	const char *name;
	/* Write all of buf or fail; QST_ERR_TIMEOUT after timeout_ms. */
	int (*write)(struct qst_transport *t, const void *buf, size_t len,
		     unsigned timeout_ms);
	/*
	 * Non-blocking: bytes read (>= 0) or a negative qst_err. A transport
	 * that learns when the bytes arrived (USB: the transfer callback)
	 * stores it in *arrival_mono_ns (CLOCK_MONOTONIC); otherwise it
	 * leaves it as the caller set it (the moment poll() woke).
	 */
	ssize_t (*read)(struct qst_transport *t, void *buf, size_t cap,
			int64_t *arrival_mono_ns);
	/* A file descriptor that polls readable when bytes wait, or -1. */
	int (*fd)(struct qst_transport *t);
	void (*close)(struct qst_transport *t);
};

struct qst_transport {
	const struct qst_transport_ops *ops;
	char description[96]; /* e.g. "pipe:tcs2-sim" or "/dev/ttyACM0" */
	void *priv;
	/* The wire log tapping this link, or NULL (qst_wirelog_attach). */
	struct qst_wirelog *wirelog;
	int wire_role;
};

/*
 * An in-process byte link: a socketpair whose near end becomes a transport
 * and whose far end (returned in *far_fd, non-blocking) is served by a
 * simulator speaking the device's wire protocol.
 */
int qst_transport_pipe_open(const char *name, struct qst_transport **out,
			    int *far_fd);

/*
 * A serial port through libserialport (drivers/transport_serial.c). spec is
 * a device path ("/dev/ttyACM0") or "usb:VID:PID[:SERIAL]" (hex), matched
 * against sp_list_ports. Framing as the device needs it; err says why an
 * open failed (no such port, permission, busy).
 */
struct qst_serial_params {
	int baud;       /* 115200 */
	int data_bits;  /* 8 */
	char parity;    /* 'N', 'E', 'O' */
	int stop_bits;  /* 1 or 2 */
};

int qst_transport_serial_open(const char *spec,
			      const struct qst_serial_params *params,
			      struct qst_transport **out, char *err,
			      size_t errlen);

/*
 * A USB device through libusb (drivers/transport_usb.c), by "VID:PID" or
 * "VID:PID:SERIAL" (hex). kind picks the framing: raw interrupt-IN reports
 * (HID pedals: each report is one chunk) or USB-TMC (SCPI instruments:
 * write() sends DEV_DEP_MSG_OUT, a command containing '?' also requests
 * the reply, read() returns reply payloads without their headers).
 * Reads complete on libusb's event thread, stamped on arrival; fd() polls
 * readable when a chunk waits; an unplugged device reads QST_ERR_IO.
 */
enum qst_usb_kind {
	QST_USB_INTERRUPT_IN = 1,
	QST_USB_TMC = 2,
};

int qst_transport_usb_open(const char *spec, enum qst_usb_kind kind,
			   struct qst_transport **out, char *err,
			   size_t errlen);

int qst_transport_write(struct qst_transport *t, const void *buf, size_t len,
			unsigned timeout_ms);
/* arrival_mono_ns may be NULL; see qst_transport_ops.read. */
ssize_t qst_transport_read(struct qst_transport *t, void *buf, size_t cap,
			   int64_t *arrival_mono_ns);
int qst_transport_fd(struct qst_transport *t);
void qst_transport_close(struct qst_transport *t);

/* ---------------------------------------------------------------- drivers */

enum qst_dev_class {
	QST_DEV_THERMAL = 1,
	QST_DEV_RESPONSE = 2,
	QST_DEV_PRESSURE = 3,
	QST_DEV_VIBRATION = 4,
	QST_DEV_RATING = 5,
	QST_DEV_SYNC = 6,
};

struct qst_dev;

/*
 * One segment of a waveform: from where the previous one ended (the first
 * from the plate's temperature) straight to to_c in duration_s.
 */
struct qst_wave_segment {
	double to_c;
	double duration_s;
};

/* Most segments one waveform may hold (before a driver splits long ones). */
#define QST_WAVE_MAX_SEGMENTS 64

/* Operations a thermal stimulator offers; temperatures in °C, rates °C/s. */
struct qst_thermal_ops {
	/* Baseline the thermode rests at between stimuli. */
	int (*set_neutral)(struct qst_dev *dev, double celsius);
	/* Clamp at the device (TCS `Om`), a second line behind the supervisor. */
	int (*set_max)(struct qst_dev *dev, double celsius);
	/*
	 * Start one stimulus from the current temperature: ramp at rate_c_s to
	 * target_c and hold there for hold_s, then the device returns to
	 * neutral at return_c_s by itself. A new ramp replaces a running one.
	 */
	int (*ramp)(struct qst_dev *dev, double target_c, double rate_c_s,
		    double hold_s, double return_c_s);
	/* Stop stimulating now and go back to neutral. */
	int (*abort)(struct qst_dev *dev);
	/*
	 * Temperatures (°C) and rates (°C/s) reach the device rounded to
	 * multiples of this (TCS II: 0.1); 0 when they go as given. Whoever
	 * models the commanded profile rounds the same way, or a rate of
	 * 0.06 °C/s played as 0.1 °C/s drifts from its model by 2 °C in 50 s.
	 */
	double resolution;
	/*
	 * Play an arbitrary profile from the present temperature: the n
	 * segments one after the other, then back to neutral at return_c_s.
	 * A ramp afterwards is an ordinary ramp again. NULL when the device
	 * cannot. Durations are rounded up to the device's steps (never
	 * played faster than asked), temperatures to its resolution.
	 */
	int (*waveform)(struct qst_dev *dev, const struct qst_wave_segment *seg,
			size_t n, double return_c_s);
};

/* Operations a pressure algometer offers (force gauge + probe). */
struct qst_pressure_ops {
	int (*zero)(struct qst_dev *dev);               /* tare the gauge */
	int (*set_probe_area)(struct qst_dev *dev, double cm2); /* for kPa */
	/* Poll readings at this rate (0 stops); readings arrive as events. */
	int (*set_rate)(struct qst_dev *dev, double hz);
};

/* Operations a vibration stimulator offers (shaker on a function generator). */
struct qst_vibration_ops {
	int (*set_sine)(struct qst_dev *dev, double hz, double amplitude_vpp);
	int (*output)(struct qst_dev *dev, bool on);
};

/* Operations a response device offers. */
struct qst_response_ops {
	/* Zero the device's own reaction-time timer (XID `e5`), if any. */
	int (*reset_timer)(struct qst_dev *dev);
};

/* Operations a rating slider offers: it streams; full scale maps raw to
 * 0..100 (eVAS range is gap G5, so it is configured). */
struct qst_rating_ops {
	int (*set_full_scale)(struct qst_dev *dev, int raw_full_scale);
};

/* Operations a sync (TTL trigger) box offers. */
struct qst_sync_ops {
	/*
	 * Put code on the line now and 0x00 after pulse_ms (sent from the
	 * driver's poll(), so the station's I/O loop times the reset).
	 * Emits QST_EV_SYNC for the code and for the reset, each stamped
	 * when its byte was written. A code sent while another is held
	 * waits its turn (queued, never merged or dropped): see the driver
	 * notes in docs/devices.md.
	 */
	int (*send)(struct qst_dev *dev, uint8_t code, int pulse_ms);
};

/* How a driver reaches its device on a real station. */
enum qst_link_kind {
	QST_LINK_SERIAL = 0,
	QST_LINK_USB = 1,
};

struct qst_driver_link {
	enum qst_link_kind kind;
	struct qst_serial_params serial; /* SERIAL: the device's framing */
	enum qst_usb_kind usb;           /* USB: the transfer framing */
};

struct qst_driver {
	const char *name;     /* "tcs2", "xid" */
	const char *longname; /* "QST.Lab TCS II thermal stimulator" */
	enum qst_dev_class dev_class;
	/* Identify and initialise the device on dev->transport. */
	int (*open)(struct qst_dev *dev);
	void (*close)(struct qst_dev *dev);
	/*
	 * True once the device has answered open()'s identification and is
	 * ready for class operations. open() only sends; the station keeps
	 * feeding receive() until ready() or its own timeout, so opening works
	 * the same on a virtual clock as on hardware.
	 */
	bool (*ready)(struct qst_dev *dev);
	/*
	 * Parse a chunk of bytes that arrived at t_ns. Chunks may split or merge
	 * device messages arbitrarily. Emits zero or more events to the sink.
	 */
	void (*receive)(struct qst_dev *dev, const uint8_t *buf, size_t len,
			int64_t t_ns);
	/*
	 * Optional, for devices that must be asked (polled) rather than
	 * streaming: send whatever request is due at now_ns and return when
	 * the next one is due (QST_SIM_NEVER-like INT64_MAX when idle). The
	 * station calls it from its I/O loop on either clock.
	 */
	int64_t (*poll)(struct qst_dev *dev, int64_t now_ns);
	const void *class_ops; /* struct qst_thermal_ops * or qst_response_ops * */
	/* The port a real device of this kind sits on (station files may
	 * override the baud rate where the device's is selectable). */
	struct qst_driver_link link;
	/*
	 * USB identities the device is known to come with ("VID:PID", hex,
	 * NULL-terminated; NULL for none known), for `qst devices`. Generic
	 * bridges (CH340, FTDI) carry many devices: a match is a candidate,
	 * and only the probe (identification) tells.
	 */
	const char *const *usb_ids;
};

/*
 * Drivers that may serve a device seen on USB: by the drivers' usb_ids,
 * and every USB-TMC driver for an instrument with a USB-TMC interface.
 * Fills out[0..max), returns how many.
 */
int qst_drivers_for_usb(uint16_t vid, uint16_t pid, bool usbtmc,
			const struct qst_driver **out, int max);

/* The role class a driver serves, by name: "thermal", "response", ... */
const char *qst_dev_class_name(enum qst_dev_class cls);

struct qst_dev_info {
	char model[64];
	char serial[64];
	char firmware[64];
};

struct qst_dev {
	const struct qst_driver *driver;
	struct qst_transport *transport;
	struct qst_event_sink sink;
	int index;               /* position in the station, copied into events */
	struct qst_dev_info info;
	void *priv;              /* driver state, owned by the driver */
};

/* The static driver table. */
const struct qst_driver *const *qst_drivers_list(void);
const struct qst_driver *qst_driver_find(const char *name);

/* Emit an event through dev->sink with dev->index filled in. */
void qst_dev_emit(struct qst_dev *dev, struct qst_event *ev);
/* Emit QST_EV_LINK_NOISE when a parser's discard count grew from before
 * to after while a chunk was parsed. */
void qst_dev_emit_noise(struct qst_dev *dev, unsigned long before,
			unsigned long after, int64_t t_ns);
/* Write a command to the device's transport (logs it at spew level). */
int qst_dev_send(struct qst_dev *dev, const void *buf, size_t len);

static inline const struct qst_thermal_ops *
qst_dev_thermal(const struct qst_dev *dev)
{
	return dev->driver->dev_class == QST_DEV_THERMAL ?
		       (const struct qst_thermal_ops *)dev->driver->class_ops :
		       NULL;
}

static inline const struct qst_response_ops *
qst_dev_response(const struct qst_dev *dev)
{
	return dev->driver->dev_class == QST_DEV_RESPONSE ?
		       (const struct qst_response_ops *)dev->driver->class_ops :
		       NULL;
}

static inline const struct qst_pressure_ops *
qst_dev_pressure(const struct qst_dev *dev)
{
	return dev->driver->dev_class == QST_DEV_PRESSURE ?
		       (const struct qst_pressure_ops *)dev->driver->class_ops :
		       NULL;
}

static inline const struct qst_vibration_ops *
qst_dev_vibration(const struct qst_dev *dev)
{
	return dev->driver->dev_class == QST_DEV_VIBRATION ?
		       (const struct qst_vibration_ops *)dev->driver->class_ops :
		       NULL;
}

static inline const struct qst_rating_ops *
qst_dev_rating(const struct qst_dev *dev)
{
	return dev->driver->dev_class == QST_DEV_RATING ?
		       (const struct qst_rating_ops *)dev->driver->class_ops :
		       NULL;
}

static inline const struct qst_sync_ops *
qst_dev_sync(const struct qst_dev *dev)
{
	return dev->driver->dev_class == QST_DEV_SYNC ?
		       (const struct qst_sync_ops *)dev->driver->class_ops :
		       NULL;
}

#endif
