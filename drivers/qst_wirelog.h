/*
 * qst wire log — every byte chunk that crosses a device link, both ways,
 * with the session-clock time and the device's role in the station.
 *
 * A tap in the transport wrappers (transport.c) feeds it, so it sees
 * exactly what the drivers wrote and read, whatever the transport. Off
 * (no log attached) it costs one pointer test per read or write.
 *
 * The text form (`qst run --wire-log FILE`, docs/simulation.md) is one
 * line per chunk:
 *
 *     t_ns role dir bytes [error]
 *
 * t_ns: session clock; role: thermal, response, pressure, vibration;
 * dir: `>` host to device, `<` device to host, `>!` a write that failed,
 * `<!` a read that failed (then bytes is `-` and error names the code,
 * e.g. QST_ERR_IO for a link whose far end closed). bytes: printable
 * ASCII other than space and backslash as is, every other byte as \xNN;
 * `-` for none. Lines starting with `#` are comments.
 */
#ifndef QST_DRIVERS_QST_WIRELOG_H
#define QST_DRIVERS_QST_WIRELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qst_drivers.h"

enum qst_wire_dir {
	QST_WIRE_TX = 0, /* host → device */
	QST_WIRE_RX = 1, /* device → host */
};

struct qst_wire_chunk {
	int64_t t_ns;
	const char *role;     /* owned by the log */
	enum qst_wire_dir dir;
	int status;           /* QST_OK, or the error the read or write met */
	const uint8_t *data;  /* owned by the log; valid until it is freed */
	size_t len;
};

struct qst_wirelog;

typedef int64_t (*qst_wirelog_clock_fn)(void *user);

/*
 * A log that writes each chunk to out as a text line when out is given
 * (the caller keeps and closes the FILE), and keeps every chunk in memory
 * for qst_wirelog_get() when keep is set.
 */
int qst_wirelog_new(FILE *out, bool keep, struct qst_wirelog **log);
void qst_wirelog_free(struct qst_wirelog *log);
/* Where chunk times come from (the station's session clock); 0 until set. */
void qst_wirelog_set_clock(struct qst_wirelog *log, qst_wirelog_clock_fn fn,
			   void *user);
/* Tap t: from now on its reads and writes are logged under role. */
int qst_wirelog_attach(struct qst_wirelog *log, struct qst_transport *t,
		       const char *role);
/* Record one chunk (the transport tap calls this). */
void qst_wirelog_add(struct qst_wirelog *log, int role, enum qst_wire_dir dir,
		     const void *buf, size_t len, int status);

size_t qst_wirelog_count(const struct qst_wirelog *log);
/* Chunk i (0-based, in the order they happened) of a keeping log. */
int qst_wirelog_get(const struct qst_wirelog *log, size_t i,
		    struct qst_wire_chunk *out);
/* Lines that could not be written to out (a full disk, say). */
unsigned long qst_wirelog_write_errors(const struct qst_wirelog *log);

/*
 * The text form of bytes (see above), NUL-terminated; returns the length
 * it needs, like snprintf, so cap >= 4 * len + 2 always fits.
 */
size_t qst_wire_escape(const uint8_t *p, size_t len, char *out, size_t cap);

#endif
