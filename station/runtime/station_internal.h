/*
 * What station.c shares with station_real.c: building a station, wiring a
 * device into its queue, and starting it. Not part of the public API.
 */
#ifndef QST_STATION_RUNTIME_STATION_INTERNAL_H
#define QST_STATION_RUNTIME_STATION_INTERNAL_H

#include "qst_station.h"

/* A station with its clock, queue and wake fd, and no device yet. */
struct qst_station *qst_station_new(const struct qst_station_config *cfg);
/* Route st->dev[role] (driver and transport set) into the queue and the
 * wire log. */
int qst_station_attach(struct qst_station *st, enum qst_role role,
		       char *errbuf, size_t errlen);
/* Start the I/O thread (real clock), open and identify every device. */
int qst_station_start(struct qst_station *st, char *errbuf, size_t errlen);
/* Open a station of real devices (station_real.c). */
int qst_station_open_real(const struct qst_station_config *cfg,
			  struct qst_station **out, char *errbuf,
			  size_t errlen);
void qst_station_sink_to_queue(const struct qst_event *ev, void *user);
/* Poll due devices, step simulators, read every link; caller holds lock. */
void qst_station_pump_locked(struct qst_station *st, int64_t t_ns);
void qst_station_wake_io(struct qst_station *st);

#endif
