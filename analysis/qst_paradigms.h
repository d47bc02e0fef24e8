/*
 * qst paradigms — find the sensitization paradigms a session recorded
 * (TSP trains, CPM blocks, offset-analgesia pairs) from its /events and
 * /rating stream, and score them with the qst_indices functions
 * (qst-domain.md §6.1, §6.3, §6.4). The event contract is in
 * docs/hdf5-schema.md ("Paradigm marks"); the stored table is
 * /analysis/indices. Library code: no printing except the text helpers.
 */
#ifndef QST_ANALYSIS_QST_PARADIGMS_H
#define QST_ANALYSIS_QST_PARADIGMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qst_indices.h"

/* Event codes of the contract that main's recorder does not name yet:
 * used only when /lookup/event_code_names has no entry at that code. */
#define QST_PD_CODE_MARK 35
#define QST_PD_CODE_CONDITION 36

#define QST_PD_LABEL_LEN 40

/* One /events row as paradigms need it. */
struct qst_pd_event {
	int64_t t_ns;
	int32_t code;
	double value, value2;
	double span_s; /* stim_waveform: the segments' total duration; NaN */
	char message[QST_PD_LABEL_LEN]; /* mark label; truncated, sanitized */
};

/* One sample of a stream: /rating value or /temperature measured_c. */
struct qst_pd_sample {
	int64_t t_ns;
	double v;
};

/* Event codes by name, resolved from /lookup/event_code_names; -1 when
 * the file does not record that kind of event. */
struct qst_pd_codes {
	int32_t train_start, pulse, rating, mark, condition, session_end;
	int32_t stim_waveform;
};

/* What a session recorded, as read (in a child process) from the file. */
struct qst_streams {
	struct qst_pd_codes codes;
	struct qst_pd_event *events;
	size_t n_events;
	struct qst_pd_sample *rating;      /* /rating; none if absent */
	size_t n_rating;
	struct qst_pd_sample *temperature; /* /temperature measured_c */
	size_t n_temperature;
};

/*
 * Read /events, /lookup/event_code_names, /rating and /temperature.
 * Missing /events or an ill-typed or ragged column: QST_ERR_DATA with
 * errbuf naming the dataset; a missing /rating or /temperature is empty
 * (a session without a slider). Read in a child process, like
 * qst_session_load, so a damaged file cannot crash the caller.
 */
int qst_streams_load(const char *path, struct qst_streams **out,
		     char *errbuf, size_t errlen);
void qst_streams_free(struct qst_streams *s);

enum qst_paradigm {
	QST_PD_TSP = 0,
	QST_PD_CPM,
	QST_PD_OA,
	QST_PD_COUNT
};
const char *qst_paradigm_name(enum qst_paradigm p); /* "tsp", "cpm", "oa" */

/* One row of /analysis/indices. */
struct qst_index_row {
	enum qst_paradigm paradigm;
	int instance;               /* 1-based train, block or pair */
	struct qst_index ix;        /* variant, value, QST_IDX_* flags */
	char detail[96];            /* "train 1: 10 rated pulses", "T3 + 1 s" */
};

/* The pieces a plot needs, one per instance, times in s on the session
 * clock (TSP/CPM) or relative to the mark (OA). */
struct qst_pd_point {
	double t, v;
};

struct qst_pd_instance {
	enum qst_paradigm paradigm;
	int instance;
	double t0, t1;               /* session time span, s */
	struct qst_pd_point *points; /* TSP: (pulse time, R_k); CPM: ratings */
	int *phase;                  /* CPM: 0 before, 1 during, 2 after */
	size_t n_points;
	/* OA: marks and the ends of their traces (session s); T2/T3
	 * starts, T3 end and the time of the offset minimum (mark time). */
	double mark_offset, mark_control, end_offset, end_control;
	double t2, t3, t3_end, t_min; /* t3_end: the waveform's end, else
				       * where the shorter trace ends */
	double ts_c;                 /* CPM: TS temperature, NaN if none */
};

struct qst_paradigms {
	struct qst_index_row *rows;
	size_t n_rows;
	struct qst_pd_instance *inst;
	size_t n_inst;
};

/*
 * Find every paradigm in s and compute its indices. An absent paradigm
 * gives no rows; a file with none gives n_rows = 0. QST_ERR_NOMEM only.
 */
int qst_paradigms_compute(const struct qst_streams *s,
			  struct qst_paradigms **out);
void qst_paradigms_free(struct qst_paradigms *p);

/* Unit stored for an index row: the rating scale for "input". */
const char *qst_index_row_unit(const struct qst_index_row *r);
/* "undefined,zero_base" (no flags: ""). */
void qst_index_flags_format(unsigned flags, char *buf, size_t len);

/* The operator's "Sensitization indices" section; nothing when n = 0. */
void qst_index_rows_print(FILE *f, const struct qst_index_row *rows,
			  size_t n);
/* CSV table (own header) and a JSON array, for qst report. */
int qst_index_rows_csv(FILE *f, const struct qst_index_row *rows, size_t n);
int qst_index_rows_json(FILE *f, const struct qst_index_row *rows, size_t n);

/*
 * One SVG page for the instances of paradigm p: the thermode readback
 * and the ratings per instance, the index marked. QST_ERR_IO on a write
 * failure, QST_ERR_NOTFOUND when the file holds no such paradigm.
 */
int qst_paradigm_svg(FILE *f, enum qst_paradigm p,
		     const struct qst_paradigms *pd,
		     const struct qst_streams *s, const char *title);

#endif
