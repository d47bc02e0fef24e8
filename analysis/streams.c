/*
 * Reading the event table and the rating and thermode streams of a
 * session file for the paradigm indices (qst_paradigms.h). Defensive
 * like session_file.c: every dataset's rank, class and length is checked
 * before it is read, and the reading happens in a child process
 * (isolate.c) so that a damaged file gives an error, not a crash.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"
#include "qst_core.h"
#include "qst_paradigms.h"
#include "session_h5.h"

#define LOG_PREFIX "paradigms: "

/* More rows than a session holds: a larger claim is a damaged dataspace,
 * refused before memory is allocated for it. */
#define MAX_STREAM_ROWS ((hssize_t)1 << 24)
/* The child's answer must stay under isolate.c's 64 MiB blob limit:
 * 2^17 paradigm events (80 bytes each; a session has a few hundred),
 * 2^21 rating samples (the OA traces: 2 h at 250 Hz) and 2^20 thermode
 * samples, beyond which those streams are thinned (see docs/report.md). */
#define MAX_KEPT_EVENTS ((size_t)1 << 17)
#define MAX_RATING_SAMPLES ((size_t)1 << 21)
#define MAX_TEMP_SAMPLES ((size_t)1 << 20)

static hid_t vlen_str(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	return t;
}

/* Where a column is read from, for messages and the length check. */
struct table {
	hid_t g;
	const char *path, *name; /* file, "/events" */
	hssize_t rows;           /* -1 until the first column is read */
};

/*
 * Read column COL of the table as mtype (numeric, or a vlen string when
 * want_str) into *out (rows + 1 elements, calloc'd).
 */
static int read_col(struct table *tb, const char *col, hid_t mtype,
		    bool want_str, void **out, char *errbuf, size_t errlen)
{
	*out = NULL;
	if (H5Lexists(tb->g, col, H5P_DEFAULT) <= 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: missing dataset %s/%s", tb->path, tb->name,
			       col);
	hid_t ds = H5Dopen2(tb->g, col, H5P_DEFAULT);
	if (ds < 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: %s/%s is not a dataset", tb->path,
			       tb->name, col);
	hid_t sp = H5Dget_space(ds), ft = H5Dget_type(ds);
	hssize_t rows = H5Sget_simple_extent_ndims(sp) == 1
				? H5Sget_simple_extent_npoints(sp) : -1;
	H5T_class_t cls = H5Tget_class(ft);
	bool type_ok = want_str ? cls == H5T_STRING && H5Tis_variable_str(ft) > 0
				: cls == H5T_INTEGER || cls == H5T_FLOAT;
	int rc = QST_OK;

	if (!type_ok)
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: %s/%s is not a %s column", tb->path, tb->name,
			     col, want_str ? "variable-length string" : "numeric");
	else if (rows < 0 || rows > MAX_STREAM_ROWS ||
		 (tb->rows >= 0 && rows != tb->rows))
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: %s/%s is not a 1-D column of the same length "
			     "as the others", tb->path, tb->name, col);
	if (rc == QST_OK) {
		tb->rows = rows;
		*out = calloc((size_t)rows + 1,
			      want_str ? sizeof(char *) : H5Tget_size(mtype));
		if (!*out)
			rc = QST_ERR_NOMEM;
		else if (rows > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL,
					     H5P_DEFAULT, *out) < 0)
			rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
				     "%s: cannot read %s/%s", tb->path,
				     tb->name, col);
	}
	H5Tclose(ft);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

/* Open group NAME; *g = -1 when absent (not an error: optional). */
static int open_table(hid_t f, const char *path, const char *name,
		      struct table *tb, char *errbuf, size_t errlen)
{
	*tb = (struct table){ -1, path, name, -1 };
	if (H5Lexists(f, name + 1, H5P_DEFAULT) <= 0)
		return QST_OK;
	tb->g = H5Gopen2(f, name + 1, H5P_DEFAULT);
	return tb->g < 0 ? qst_session_err(errbuf, errlen, QST_ERR_DATA,
				   "%s: %s is not a group", path, name)
			 : QST_OK;
}

/* ------------------------------------------------------- event codes */

static int32_t find_code(char **names, hssize_t n, const char *want,
			 int32_t contract)
{
	for (hssize_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], want))
			return (int32_t)i;
	/* The contract's code for a kind this file's lookup predates
	 * (mark, condition on a recorder of schema 1.2.0). */
	return contract >= 0 && contract >= n ? contract : -1;
}

static int load_codes(hid_t f, const char *path, struct qst_pd_codes *c,
		      char *errbuf, size_t errlen)
{
	struct table tb;
	char **names = NULL;
	int rc = open_table(f, path, "/lookup", &tb, errbuf, errlen);
	if (rc == QST_OK && tb.g < 0)
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: missing group /lookup", path);
	hid_t mt = vlen_str();
	if (rc == QST_OK)
		rc = read_col(&tb, "event_code_names", mt, true,
			      (void **)&names, errbuf, errlen);
	if (rc == QST_OK) {
		c->train_start = find_code(names, tb.rows, "train_start", -1);
		c->pulse = find_code(names, tb.rows, "pulse", -1);
		c->rating = find_code(names, tb.rows, "rating", -1);
		c->session_end = find_code(names, tb.rows, "session_end", -1);
		c->mark = find_code(names, tb.rows, "mark", QST_PD_CODE_MARK);
		c->condition = find_code(names, tb.rows, "condition",
					 QST_PD_CODE_CONDITION);
		c->stim_waveform = find_code(names, tb.rows, "stim_waveform",
					     -1);
		for (hssize_t i = 0; i < tb.rows; i++)
			H5free_memory(names[i]);
	}
	free(names);
	H5Tclose(mt);
	if (tb.g >= 0)
		H5Gclose(tb.g);
	return rc;
}

/* ------------------------------------------------------------ events */

static bool wanted_code(const struct qst_pd_codes *c, int32_t code)
{
	return code >= 0 &&
	       (code == c->train_start || code == c->pulse ||
		code == c->rating || code == c->mark ||
		code == c->condition || code == c->session_end ||
		code == c->stim_waveform);
}

struct event_cols {
	int64_t *t;
	int32_t *code;
	double *v, *v2;
	char **msg;
};

/*
 * Total duration of a stim_waveform message, "waveform: 46.0/2.800s
 * 46.0/5.000s ..." (docs/hdf5-schema.md): the sum of the numbers after
 * each '/'. NaN when there is none or one is not a duration. Parsed here
 * because the message is cut to QST_PD_LABEL_LEN when kept.
 */
static double waveform_span(const char *msg)
{
	double total = 0.0;
	int n = 0;
	for (const char *p = strchr(msg, '/'); p; p = strchr(p + 1, '/')) {
		char *end;
		double d = strtod(p + 1, &end);
		if (end == p + 1 || !isfinite(d) || d < 0.0)
			return NAN;
		total += d;
		n++;
	}
	return n ? total : NAN;
}

/* Refuses a file with more paradigm events than any session records,
 * rather than scoring a part of them. */
static int keep_events(struct qst_streams *s, const struct event_cols *c,
		       size_t rows, const char *path, char *errbuf,
		       size_t errlen)
{
	for (size_t i = 0; i < rows; i++) {
		if (!wanted_code(&s->codes, c->code[i]))
			continue;
		if (s->n_events == MAX_KEPT_EVENTS)
			return qst_session_err(errbuf, errlen, QST_ERR_DATA,
				       "%s: /events holds more than %zu "
				       "train, pulse, rating, mark and "
				       "condition events", path,
				       MAX_KEPT_EVENTS);
		struct qst_pd_event *e = &s->events[s->n_events++];
		e->t_ns = c->t[i];
		e->code = c->code[i];
		e->value = c->v[i];
		e->value2 = c->v2[i];
		e->span_s = c->code[i] == s->codes.stim_waveform && c->msg[i]
				    ? waveform_span(c->msg[i]) : NAN;
		snprintf(e->message, sizeof(e->message), "%s",
			 c->msg[i] ? c->msg[i] : "");
		qst_text_sanitize(e->message, false);
	}
	return QST_OK;
}

static int load_events(hid_t f, const char *path, struct qst_streams *s,
		       char *errbuf, size_t errlen)
{
	struct table tb;
	struct event_cols c = { 0 };
	int rc = open_table(f, path, "/events", &tb, errbuf, errlen);
	if (rc == QST_OK && tb.g < 0)
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: missing group /events", path);
	hid_t mt = vlen_str();
	if (rc == QST_OK)
		rc = read_col(&tb, "t_ns", H5T_NATIVE_INT64, false,
			      (void **)&c.t, errbuf, errlen);
	if (rc == QST_OK)
		rc = read_col(&tb, "code", H5T_NATIVE_INT32, false,
			      (void **)&c.code, errbuf, errlen);
	if (rc == QST_OK)
		rc = read_col(&tb, "value", H5T_NATIVE_DOUBLE, false,
			      (void **)&c.v, errbuf, errlen);
	if (rc == QST_OK)
		rc = read_col(&tb, "value2", H5T_NATIVE_DOUBLE, false,
			      (void **)&c.v2, errbuf, errlen);
	if (rc == QST_OK)
		rc = read_col(&tb, "message", mt, true, (void **)&c.msg,
			      errbuf, errlen);
	size_t rows = rc == QST_OK ? (size_t)tb.rows : 0;
	if (rc == QST_OK) {
		s->events = calloc(rows < MAX_KEPT_EVENTS ? rows + 1
							  : MAX_KEPT_EVENTS,
				   sizeof(*s->events));
		if (!s->events)
			rc = QST_ERR_NOMEM;
		else
			rc = keep_events(s, &c, rows, path, errbuf, errlen);
	}
	for (size_t i = 0; c.msg && i < rows; i++)
		H5free_memory(c.msg[i]);
	free(c.t);
	free(c.code);
	free(c.v);
	free(c.v2);
	free(c.msg);
	H5Tclose(mt);
	if (tb.g >= 0)
		H5Gclose(tb.g);
	return rc;
}

/* ----------------------------------------------------------- streams */

/* NAME/t_ns and NAME/COL into *out; absent group = no samples. A
 * stream longer than max is thinned to every k-th sample. */
static int load_stream(hid_t f, const char *path, const char *name,
		       const char *col, size_t max, struct qst_pd_sample **out,
		       size_t *n, char *errbuf, size_t errlen)
{
	struct table tb;
	int64_t *t = NULL;
	double *v = NULL;
	*out = NULL;
	*n = 0;
	int rc = open_table(f, path, name, &tb, errbuf, errlen);
	if (rc || tb.g < 0)
		return rc;
	rc = read_col(&tb, "t_ns", H5T_NATIVE_INT64, false, (void **)&t,
		      errbuf, errlen);
	if (rc == QST_OK)
		rc = read_col(&tb, col, H5T_NATIVE_DOUBLE, false, (void **)&v,
			      errbuf, errlen);
	size_t rows = rc == QST_OK ? (size_t)tb.rows : 0;
	size_t step = rows > max ? (rows + max - 1) / max : 1;
	if (rc == QST_OK) {
		*out = calloc(rows / step + 1, sizeof(**out));
		if (!*out)
			rc = QST_ERR_NOMEM;
	}
	for (size_t i = 0; rc == QST_OK && i < rows; i += step)
		(*out)[(*n)++] = (struct qst_pd_sample){ t[i], v[i] };
	free(t);
	free(v);
	H5Gclose(tb.g);
	return rc;
}

/* ------------------------------------------------------------- blob */

/* In the reader child: header, then events, rating and temperature. */
static int load_child(void *ctx, void **blob, size_t *len, char *errbuf,
		      size_t errlen)
{
	const char *path = ctx;
	struct qst_streams s = { 0 };
	hid_t f;
	int rc = qst_session_open_ro(path, &f, errbuf, errlen);
	if (rc)
		return rc;
	rc = load_codes(f, path, &s.codes, errbuf, errlen);
	if (rc == QST_OK)
		rc = load_events(f, path, &s, errbuf, errlen);
	if (rc == QST_OK)
		rc = load_stream(f, path, "/rating", "value",
				 MAX_RATING_SAMPLES, &s.rating, &s.n_rating,
				 errbuf, errlen);
	if (rc == QST_OK)
		rc = load_stream(f, path, "/temperature", "measured_c",
				 MAX_TEMP_SAMPLES, &s.temperature,
				 &s.n_temperature, errbuf, errlen);
	H5Fclose(f);
	size_t le = s.n_events * sizeof(*s.events);
	size_t lr = s.n_rating * sizeof(*s.rating);
	size_t lt = s.n_temperature * sizeof(*s.temperature);
	char *b = rc ? NULL : malloc(sizeof(s) + le + lr + lt);
	if (rc == QST_OK && !b)
		rc = QST_ERR_NOMEM;
	if (b) {
		memcpy(b, &s, sizeof(s));
		/* An absent stream is NULL with length 0: memcpy may not be
		 * handed NULL even then. */
		if (le)
			memcpy(b + sizeof(s), s.events, le);
		if (lr)
			memcpy(b + sizeof(s) + le, s.rating, lr);
		if (lt)
			memcpy(b + sizeof(s) + le + lr, s.temperature, lt);
		*blob = b;
		*len = sizeof(s) + le + lr + lt;
	}
	free(s.events);
	free(s.rating);
	free(s.temperature);
	return rc;
}

/* Copy n items of size sz from *p into a new array; advance *p. */
static void *take(const char **p, size_t n, size_t sz)
{
	void *a = calloc(n + 1, sz);
	if (a)
		memcpy(a, *p, n * sz);
	*p += n * sz;
	return a;
}

static int unpack(const void *blob, size_t len, struct qst_streams *s)
{
	if (len < sizeof(*s))
		return QST_ERR_DATA;
	memcpy(s, blob, sizeof(*s));
	/* The child's pointers mean nothing here. */
	s->events = NULL;
	s->rating = NULL;
	s->temperature = NULL;
	size_t le = s->n_events * sizeof(*s->events);
	size_t lr = s->n_rating * sizeof(*s->rating);
	size_t lt = s->n_temperature * sizeof(*s->temperature);
	if (len != sizeof(*s) + le + lr + lt)
		return QST_ERR_DATA;
	const char *p = (const char *)blob + sizeof(*s);
	s->events = take(&p, s->n_events, sizeof(*s->events));
	s->rating = take(&p, s->n_rating, sizeof(*s->rating));
	s->temperature = take(&p, s->n_temperature, sizeof(*s->temperature));
	return s->events && s->rating && s->temperature ? QST_OK
							: QST_ERR_NOMEM;
}

int qst_streams_load(const char *path, struct qst_streams **out,
		     char *errbuf, size_t errlen)
{
	void *blob = NULL;
	size_t len = 0;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!path || !out)
		return qst_session_err(errbuf, errlen, QST_ERR_ARG,
			       "streams_load: missing path or result");
	*out = NULL;
	int rc = qst_run_isolated(path, load_child, (void *)path, &blob, &len,
				  errbuf, errlen);
	struct qst_streams *s = rc ? NULL : calloc(1, sizeof(*s));
	if (rc == QST_OK && !s)
		rc = QST_ERR_NOMEM;
	if (rc == QST_OK) {
		rc = unpack(blob, len, s);
		if (rc == QST_ERR_DATA)
			qst_session_err(errbuf, errlen, rc,
				"%s: the reader sent a short answer", path);
	}
	free(blob);
	if (rc) {
		qst_streams_free(s);
		return rc;
	}
	*out = s;
	return QST_OK;
}

void qst_streams_free(struct qst_streams *s)
{
	if (!s)
		return;
	free(s->events);
	free(s->rating);
	free(s->temperature);
	free(s);
}
