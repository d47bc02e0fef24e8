/*
 * Recorder internals shared by recorder.c, h5write.c, journal.c and
 * recover.c. Not a public header: nothing outside station/recorder/ and
 * analysis/session_file.c includes it.
 */
#ifndef QST_STATION_RECORDER_REC_INTERNAL_H
#define QST_STATION_RECORDER_REC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include <hdf5.h>

#include "qst_recorder.h"

/* ------------------------------------------------------------ HDF5 side */

/* How one column of a table is filled from a row struct. */
enum qst_col_kind {
	QST_COL_I32,       /* int32_t field */
	QST_COL_I64,       /* int64_t field */
	QST_COL_F64,       /* double field */
	QST_COL_NS_TO_S,   /* int64_t ns field written as float64 seconds */
	QST_COL_NS_TO_S_OPT, /* same, but a negative value (-1 = none) → NaN */
	QST_COL_STRPTR,    /* const char * field (NULL → ""), vlen UTF-8 */
	QST_COL_STRARR,    /* char[] field, vlen UTF-8 */
};

struct qst_col_spec {
	const char *name;
	enum qst_col_kind kind;
	size_t offset;          /* offsetof() the field in the row struct */
	const char *units;
	const char *description;
	const char *lookup;     /* path of a name lookup dataset, or NULL */
};

struct qst_table_spec {
	const char *group;      /* "/trials" */
	const char *description;
	size_t row_size;        /* sizeof the row struct */
	hsize_t chunk;          /* rows per chunk (landscape.md §3.4) */
	bool compress;          /* deflate + shuffle on numeric columns */
	const struct qst_col_spec *cols;
	size_t ncols;
};

struct qst_h5_table {
	const struct qst_table_spec *spec;
	hid_t *ds;              /* one dataset per column */
	hsize_t rows;
};

/* The one HDF5 writer: live recording and recovery both go through it. */
struct qst_h5w {
	hid_t file;
	struct qst_h5_table devices, temperature, pressure, rating, events, trials;
	char path[4096];
};

/* Silence HDF5's automatic error-stack printing: we log our own message. */
void qst_h5_quiet(void);

/* Create PATH (mode 0600, refusing an existing file unless overwrite). */
int qst_file_create_private(const char *path, bool overwrite);

int qst_h5w_create(struct qst_h5w *w, const char *path, bool overwrite,
		   const struct qst_session_meta *meta, const char *created_utc);
int qst_h5w_append(struct qst_h5w *w, struct qst_h5_table *t,
		   const void *rows, size_t n);
int qst_h5w_flush(struct qst_h5w *w);
int qst_h5w_set_complete(struct qst_h5w *w, bool complete);
int qst_h5w_close(struct qst_h5w *w);

/* Small attribute/dataset helpers. */
int qst_h5_attr_str(hid_t obj, const char *name, const char *value);
int qst_h5_attr_i32(hid_t obj, const char *name, int32_t value);
int qst_h5_attr_i64(hid_t obj, const char *name, int64_t value);
int qst_h5_attr_f64(hid_t obj, const char *name, double value);
int qst_h5_attr_str_array(hid_t obj, const char *name,
			  const char *const *values, size_t n);
int qst_h5_dataset_str_array(hid_t loc, const char *name,
			     const char *const *values, size_t n,
			     const char *description);
/* Fixed-size 1-D column written at once (no chunking). */
int qst_h5_dataset_1d(hid_t loc, const char *name, hid_t type,
		      const void *data, size_t n, const char *units,
		      const char *description);
hid_t qst_h5_vlen_str_type(void);
hid_t qst_h5_create_group(hid_t loc, const char *name);

/* --------------------------------------------------------- journal side */

#define QST_JOURNAL_MAGIC "qst-journal"
#define QST_JOURNAL_VERSION 1

uint32_t qst_crc32(const void *data, size_t len);

/* A growable text buffer for journal lines. */
struct qst_strbuf {
	char *data;
	size_t len, cap;
	size_t line_start;      /* where the line being built starts */
	bool failed;            /* out of memory at some point */
};

void qst_strbuf_free(struct qst_strbuf *b);
void qst_strbuf_reset(struct qst_strbuf *b);

void qst_jl_begin(struct qst_strbuf *b, const char *type);
void qst_jl_i64(struct qst_strbuf *b, int64_t v);
void qst_jl_f64(struct qst_strbuf *b, double v);
void qst_jl_str(struct qst_strbuf *b, const char *s);
void qst_jl_strn(struct qst_strbuf *b, const char *s, size_t len);
/* Append " *<crc32>\n" over the line started by qst_jl_begin. */
void qst_jl_end(struct qst_strbuf *b);

void qst_journal_meta(struct qst_strbuf *b, const struct qst_session_meta *m,
		      const char *created_utc);
void qst_journal_device(struct qst_strbuf *b, const struct qst_device_record *d);
void qst_journal_sample(struct qst_strbuf *b, const struct qst_temp_sample *s);
void qst_journal_pressure(struct qst_strbuf *b,
			  const struct qst_pressure_sample *s);
void qst_journal_rating(struct qst_strbuf *b, const struct qst_rating_sample *s);
void qst_journal_event(struct qst_strbuf *b, const struct qst_event_record *e);
void qst_journal_trial(struct qst_strbuf *b, const struct qst_trial_record *t);
void qst_journal_close(struct qst_strbuf *b, bool complete);

/* ------------------------------------------------------ recorder buffers */

/*
 * The recorder with an optional journal: recovery replays a journal
 * through the same functions with jfd = -1, so the HDF5 file it builds
 * comes from the same code as a live recording.
 */
struct qst_recorder {
	struct qst_h5w h5;
	int jfd;                /* -1: no journal (recovery) */
	off_t journal_good;     /* journal size after the last complete write */
	char journal_path[4096 + 16];
	bool h5_behind;         /* an HDF5 write failed: journal is the truth */
	bool write_failing;     /* the last journal write failed (logged once) */
	struct qst_trial_record *pending; /* trials not yet in the journal */
	size_t n_pending, cap_pending;
	struct qst_temp_sample *samples;
	size_t n_samples, cap_samples;
	struct qst_pressure_sample *pressure;
	size_t n_pressure, cap_pressure;
	struct qst_rating_sample *rating;
	size_t n_rating, cap_rating;
	struct qst_event_record *events; /* messages owned (strdup) */
	size_t n_events, cap_events;
	struct qst_strbuf line;
};

int qst_rec_open(struct qst_recorder *r, const char *path,
		 const struct qst_session_meta *meta, const char *created_utc,
		 bool overwrite, bool with_journal);
void qst_rec_free(struct qst_recorder *r);

/* Test-only fault hooks (faults.c); inert unless QST_TEST_* is set. */
bool qst_rec_hook_fail_write(const struct qst_recorder *r);
bool qst_rec_hook_fail_h5(const struct qst_recorder *r);
void qst_rec_hook_point(const struct qst_recorder *r, const char *where);
void qst_rec_hook_report(void);

#endif
