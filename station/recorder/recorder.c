/*
 * The session recorder: samples and events are buffered in memory; at
 * every trial (or flush) the buffered records and the trial go to the
 * journal first, which is fsynced, then to the HDF5 file, which is
 * flushed. A crash at any moment therefore loses no completed trial:
 * the journal has it even if the HDF5 file is torn (landscape.md §3.3,
 * §3.6). Recovery (recover.c) drives the same functions without a journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rec_internal.h"

#define LOG_PREFIX "recorder: "

/* Bound the memory held between trials: flush past this many samples. */
#define MAX_BUFFERED_SAMPLES 65536
#define MAX_BUFFERED_EVENTS 16384

static const char *const event_code_names[QST_EVC_COUNT] = {
	[QST_EVC_SESSION_START] = "session_start",
	[QST_EVC_SESSION_END] = "session_end",
	[QST_EVC_TEST_START] = "test_start",
	[QST_EVC_TEST_END] = "test_end",
	[QST_EVC_TRIAL_START] = "trial_start",
	[QST_EVC_TRIAL_END] = "trial_end",
	[QST_EVC_STIM_RAMP] = "stim_ramp",
	[QST_EVC_STIM_ABORT] = "stim_abort",
	[QST_EVC_STIM_NEUTRAL] = "stim_neutral",
	[QST_EVC_RESPONSE_PRESS] = "response_press",
	[QST_EVC_RESPONSE_RELEASE] = "response_release",
	[QST_EVC_REFUSAL] = "refusal",
	[QST_EVC_SCRIPT_ERROR] = "script_error",
	[QST_EVC_DEVICE_FAULT] = "device_fault",
	[QST_EVC_INSTRUCTION] = "instruction",
	[QST_EVC_LOG] = "log",
	[QST_EVC_CUTOFF_REACHED] = "cutoff_reached",
	[QST_EVC_TEST_NOT_DONE] = "test_not_done",
	[QST_EVC_STIMULUS] = "stimulus",
	[QST_EVC_OPERATOR_NOTE] = "operator_note",
	[QST_EVC_REPEAT] = "repeat",
	[QST_EVC_CUE] = "cue",
	[QST_EVC_PRESSURE_APPLY] = "pressure_apply",
	[QST_EVC_PRESSURE_RELEASE] = "pressure_release",
	[QST_EVC_EMERGENCY_STOP] = "emergency_stop",
	[QST_EVC_PAUSE] = "pause",
	[QST_EVC_RESUME] = "resume",
	[QST_EVC_SYNC] = "sync",
	[QST_EVC_RATING_MARKER] = "rating_marker",
	[QST_EVC_STIM_WAVEFORM] = "stim_waveform",
	[QST_EVC_TRAIN_START] = "train_start",
	[QST_EVC_PULSE] = "pulse",
	[QST_EVC_PULSE_PEAK] = "pulse_peak",
	[QST_EVC_RATING] = "rating",
	[QST_EVC_REALTIME] = "realtime",
	[QST_EVC_MARK] = "mark",
	[QST_EVC_CONDITION] = "condition",
};

static const char *const event_source_names[QST_EVS_COUNT] = {
	[QST_EVS_STATION] = "station",
	[QST_EVS_SCRIPT] = "script",
	[QST_EVS_SUPERVISOR] = "supervisor",
	[QST_EVS_THERMAL] = "thermal",
	[QST_EVS_RESPONSE] = "response",
	[QST_EVS_OPERATOR] = "operator",
	[QST_EVS_PARTICIPANT] = "participant",
	[QST_EVS_PRESSURE] = "pressure",
	[QST_EVS_VIBRATION] = "vibration",
	[QST_EVS_RATING] = "rating",
	[QST_EVS_SYNC] = "sync",
};

const char *qst_event_code_name(int code)
{
	if (code < 0 || code >= QST_EVC_COUNT)
		return "unknown";
	return event_code_names[code];
}

const char *qst_event_source_name(int source)
{
	if (source < 0 || source >= QST_EVS_COUNT)
		return "unknown";
	return event_source_names[source];
}

/* ------------------------------------------------------------ journal */

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n == 0 ? ENOSPC : errno;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A full disk is the one write failure the session can wait out. */
static int write_error(int err)
{
	return err == ENOSPC || err == EDQUOT ? QST_ERR_NOSPACE : QST_ERR_IO;
}

/* Log a failing journal once, not at every retry of a paused session. */
static void journal_failed(struct qst_recorder *r, int err)
{
	if (!r->write_failing)
		qst_err("%s: journal write failed: %s", r->journal_path,
			strerror(err));
	else
		qst_dbg("%s: journal write failed again: %s", r->journal_path,
			strerror(err));
	r->write_failing = true;
}

/*
 * Write the lines built in r->line and fsync. On failure the journal is
 * cut back to its last complete state so a later retry appends cleanly.
 * The write goes in two halves so the test hooks (faults.c) can stop a
 * process, or fail the disk, with a line half written.
 */
static int journal_commit(struct qst_recorder *r)
{
	struct qst_strbuf *b = &r->line;
	size_t half = b->len / 2;
	int err;

	if (r->jfd < 0)
		goto out;
	if (b->failed) {
		qst_err("%s: out of memory building journal lines",
			r->journal_path);
		return QST_ERR_NOMEM;
	}
	if (b->len == 0) /* nothing to write, nothing to sync */
		goto out;
	if (write_all(r->jfd, b->data, half) < 0)
		goto fail;
	qst_rec_hook_point(r, "journal half written");
	if (qst_rec_hook_fail_write(r)) {
		errno = ENOSPC;
		goto fail;
	}
	if (write_all(r->jfd, b->data + half, b->len - half) < 0)
		goto fail;
	qst_rec_hook_point(r, "journal written, not fsynced");
	if (fsync(r->jfd) < 0)
		goto fail;
	r->journal_good += (off_t)b->len;
	r->write_failing = false;
	qst_rec_hook_point(r, "journal fsynced");
out:
	qst_strbuf_reset(b);
	return QST_OK;
fail:
	err = errno ? errno : EIO;
	journal_failed(r, err);
	if (ftruncate(r->jfd, r->journal_good) < 0)
		qst_err("%s: cannot cut back a partial line: %s",
			r->journal_path, strerror(errno));
	qst_strbuf_reset(b);
	return write_error(err);
}

static void mark_h5_behind(struct qst_recorder *r)
{
	if (!r->h5_behind && r->jfd >= 0)
		qst_err("%s is behind its journal from now on; it is rebuilt "
			"from %s when the session closes", r->h5.path,
			r->journal_path);
	else if (!r->h5_behind)
		qst_err("%s: cannot write the file", r->h5.path);
	r->h5_behind = true;
}

static void drop_buffers(struct qst_recorder *r)
{
	for (size_t i = 0; i < r->n_events; i++)
		free((char *)r->events[i].message);
	r->n_events = 0;
	r->n_samples = 0;
	r->n_pressure = 0;
	r->n_rating = 0;
	r->n_pending = 0;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem);

static void journal_buffers(struct qst_recorder *r)
{
	qst_strbuf_reset(&r->line);
	if (r->jfd < 0)
		return;
	for (size_t i = 0; i < r->n_samples; i++)
		qst_journal_sample(&r->line, &r->samples[i]);
	for (size_t i = 0; i < r->n_pressure; i++)
		qst_journal_pressure(&r->line, &r->pressure[i]);
	for (size_t i = 0; i < r->n_rating; i++)
		qst_journal_rating(&r->line, &r->rating[i]);
	for (size_t i = 0; i < r->n_events; i++)
		qst_journal_event(&r->line, &r->events[i]);
	for (size_t i = 0; i < r->n_pending; i++)
		qst_journal_trial(&r->line, &r->pending[i]);
}

static int h5_buffers(struct qst_recorder *r)
{
	int rc = qst_h5w_append(&r->h5, &r->h5.temperature, r->samples,
				r->n_samples);
	if (rc == QST_OK)
		rc = qst_h5w_append(&r->h5, &r->h5.pressure, r->pressure,
				    r->n_pressure);
	if (rc == QST_OK)
		rc = qst_h5w_append(&r->h5, &r->h5.rating, r->rating,
				    r->n_rating);
	if (rc == QST_OK)
		rc = qst_h5w_append(&r->h5, &r->h5.events, r->events,
				    r->n_events);
	if (rc == QST_OK)
		rc = qst_h5w_append(&r->h5, &r->h5.trials, r->pending,
				    r->n_pending);
	if (rc == QST_OK)
		qst_rec_hook_point(r, "HDF5 rows appended, not flushed");
	if (rc == QST_OK && qst_rec_hook_fail_h5(r))
		rc = QST_ERR_IO;
	if (rc == QST_OK)
		rc = qst_h5w_flush(&r->h5);
	if (rc == QST_OK)
		qst_rec_hook_point(r, "HDF5 flushed");
	return rc;
}

/*
 * Journal, then HDF5, everything buffered plus the trial (may be NULL).
 * A failed journal write keeps it all in memory, the trial too, so the
 * next commit (a retry) writes it: nothing the session handed over is
 * dropped while the disk is full. Once the journal has it, the data is
 * safe: an HDF5 failure from then on is repaired at close.
 */
static int commit(struct qst_recorder *r, const struct qst_trial_record *t)
{
	if (t) {
		if (!grow((void **)&r->pending, &r->cap_pending,
			  r->n_pending + 1, sizeof(*r->pending)))
			return QST_ERR_NOMEM;
		r->pending[r->n_pending++] = *t;
	}
	journal_buffers(r);
	int rc = journal_commit(r);
	if (rc)
		return rc;
	if (!r->h5_behind && h5_buffers(r) != QST_OK)
		mark_h5_behind(r);
	drop_buffers(r);
	/* Without a journal (recovery) the HDF5 file is all there is. */
	return r->h5_behind && r->jfd < 0 ? QST_ERR_IO : QST_OK;
}

/* ----------------------------------------------------------- lifecycle */

static void utc_now(char *buf, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	qst_format_utc((int64_t)ts.tv_sec * QST_NS_PER_S + ts.tv_nsec, buf, len);
}

/* The journal's name must survive a power cut too, not only its bytes. */
static void sync_dir(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		qst_warn("%s: cannot sync the directory: %s", dir,
			 strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int journal_open(struct qst_recorder *r, const char *path,
			bool overwrite)
{
	snprintf(r->journal_path, sizeof(r->journal_path), "%s.journal", path);
	int fd = qst_create_private(r->journal_path, overwrite, O_APPEND);
	if (fd == QST_ERR_EXISTS) {
		qst_err("%s exists (a crashed session?): recover it with "
			"`qst recover` or remove it", r->journal_path);
		return QST_ERR_EXISTS;
	}
	if (fd < 0)
		return write_error(errno);
	r->jfd = fd;
	sync_dir(r->journal_path);
	return QST_OK;
}

int qst_rec_open(struct qst_recorder *r, const char *path,
		 const struct qst_session_meta *meta, const char *created_utc,
		 bool overwrite, bool with_journal)
{
	memset(r, 0, sizeof(*r));
	r->jfd = -1;
	r->h5.file = -1;
	int rc = qst_h5w_create(&r->h5, path, overwrite, meta, created_utc);
	if (rc)
		return rc;
	if (with_journal) {
		rc = journal_open(r, path, overwrite);
		if (rc == QST_OK) {
			qst_journal_meta(&r->line, meta, created_utc);
			rc = journal_commit(r);
			if (rc) {
				close(r->jfd);
				unlink(r->journal_path);
			}
		}
		if (rc) {
			qst_h5w_close(&r->h5);
			unlink(path);
			qst_strbuf_free(&r->line);
			return rc;
		}
	}
	return QST_OK;
}

void qst_rec_free(struct qst_recorder *r)
{
	drop_buffers(r);
	free(r->samples);
	free(r->pressure);
	free(r->rating);
	free(r->events);
	free(r->pending);
	qst_strbuf_free(&r->line);
	qst_h5w_close(&r->h5);
	if (r->jfd >= 0)
		close(r->jfd);
	r->jfd = -1;
}

int qst_recorder_create(const char *path, const struct qst_session_meta *meta,
			bool overwrite, struct qst_recorder **out)
{
	char created[48];

	if (!path || !*path || !meta || !out) {
		qst_err("recorder_create: missing path, metadata or result");
		return QST_ERR_ARG;
	}
	*out = NULL;
	struct qst_recorder *r = malloc(sizeof(*r));
	if (!r)
		return QST_ERR_NOMEM;
	utc_now(created, sizeof(created));
	int rc = qst_rec_open(r, path, meta, created, overwrite, true);
	if (rc) {
		free(r);
		return rc;
	}
	qst_info("recording to %s (journal %s)", path, r->journal_path);
	*out = r;
	return QST_OK;
}

int qst_recorder_add_device(struct qst_recorder *r,
			    const struct qst_device_record *dev)
{
	if (!r || !dev)
		return QST_ERR_ARG;
	qst_strbuf_reset(&r->line);
	qst_journal_device(&r->line, dev);
	int rc = journal_commit(r);
	if (rc)
		return rc;
	if (!r->h5_behind) {
		rc = qst_h5w_append(&r->h5, &r->h5.devices, dev, 1);
		if (rc == QST_OK)
			rc = qst_h5w_flush(&r->h5);
		if (rc)
			mark_h5_behind(r);
	}
	return r->h5_behind && r->jfd < 0 ? QST_ERR_IO : QST_OK;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 1024;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* Buffer one stream sample (of size bytes) until the next commit; a full
 * buffer commits at once, so a long stream never holds much in memory. */
static int buffer_sample(struct qst_recorder *r, void **buf, size_t *cap,
			 size_t *n, const void *sample, size_t size)
{
	if (!r || !sample)
		return QST_ERR_ARG;
	if (!grow(buf, cap, *n + 1, size))
		return QST_ERR_NOMEM;
	memcpy((char *)*buf + *n * size, sample, size);
	if (++*n >= MAX_BUFFERED_SAMPLES)
		return commit(r, NULL);
	return QST_OK;
}

int qst_recorder_pressure(struct qst_recorder *r,
			  const struct qst_pressure_sample *s)
{
	return r ? buffer_sample(r, (void **)&r->pressure, &r->cap_pressure,
				 &r->n_pressure, s, sizeof(*s)) : QST_ERR_ARG;
}

int qst_recorder_rating(struct qst_recorder *r,
			const struct qst_rating_sample *s)
{
	return r ? buffer_sample(r, (void **)&r->rating, &r->cap_rating,
				 &r->n_rating, s, sizeof(*s)) : QST_ERR_ARG;
}

int qst_recorder_temperature(struct qst_recorder *r,
			     const struct qst_temp_sample *s)
{
	return r ? buffer_sample(r, (void **)&r->samples, &r->cap_samples,
				 &r->n_samples, s, sizeof(*s)) : QST_ERR_ARG;
}

int qst_recorder_event(struct qst_recorder *r, const struct qst_event_record *e)
{
	if (!r || !e)
		return QST_ERR_ARG;
	if (!grow((void **)&r->events, &r->cap_events, r->n_events + 1,
		  sizeof(*r->events)))
		return QST_ERR_NOMEM;
	struct qst_event_record copy = *e;
	copy.message = strdup(e->message ? e->message : "");
	if (!copy.message)
		return QST_ERR_NOMEM;
	r->events[r->n_events++] = copy;
	if (r->n_events >= MAX_BUFFERED_EVENTS)
		return commit(r, NULL);
	return QST_OK;
}

int qst_recorder_trial(struct qst_recorder *r, const struct qst_trial_record *t)
{
	if (!r || !t)
		return QST_ERR_ARG;
	return commit(r, t);
}

int qst_recorder_flush(struct qst_recorder *r)
{
	if (!r)
		return QST_ERR_ARG;
	return commit(r, NULL);
}

/*
 * The HDF5 side failed during the session but the journal has it all:
 * rebuild the file from the journal as `qst recover` would, beside it
 * first, so a rebuild that fails too (the disk still full) leaves the
 * old file in place.
 */
static int rebuild_from_journal(const struct qst_recorder *r)
{
	char tmp[4096 + 16], err[512];
	struct qst_recover_report rep;

	snprintf(tmp, sizeof(tmp), "%s.rebuild", r->h5.path);
	int rc = qst_recover(r->journal_path, tmp, true, &rep, err, sizeof(err));
	if (rc == QST_OK && rename(tmp, r->h5.path) < 0) {
		rc = write_error(errno);
		unlink(tmp);
	}
	if (rc == QST_OK)
		qst_warn("%s rebuilt from its journal: %d trials, %d events",
			 r->h5.path, rep.trials, rep.events);
	else
		qst_err("%s could not be rebuilt (%s); the journal %s has the "
			"session: run `qst recover` on it", r->h5.path,
			qst_strerror(rc), r->journal_path);
	return rc;
}

/* The journal's last line, only when everything before it is there. */
static int journal_close_line(struct qst_recorder *r, bool complete)
{
	qst_strbuf_reset(&r->line);
	qst_journal_close(&r->line, complete);
	int rc = journal_commit(r);
	if (r->jfd >= 0 && close(r->jfd) < 0) {
		qst_err("%s: close failed: %s", r->journal_path,
			strerror(errno));
		rc = rc ? rc : QST_ERR_IO;
	}
	r->jfd = -1;
	return rc;
}

int qst_recorder_close(struct qst_recorder *r, bool complete)
{
	if (!r)
		return QST_ERR_ARG;
	bool live = r->jfd >= 0;
	int rc = commit(r, NULL);
	if (!r->h5_behind && qst_h5w_set_complete(&r->h5, complete) != QST_OK)
		mark_h5_behind(r);
	if (rc == QST_OK && live)
		rc = journal_close_line(r, complete);
	if (qst_h5w_close(&r->h5) != QST_OK)
		mark_h5_behind(r);
	if (live && r->jfd >= 0)
		close(r->jfd); /* the journal write failed: it stays as it is */
	r->jfd = -1;
	if (r->h5_behind)
		rc = rc ? rc : live ? rebuild_from_journal(r) : QST_ERR_IO;
	if (live)
		qst_rec_hook_report();
	qst_rec_free(r);
	free(r);
	return rc;
}

const char *qst_recorder_path(const struct qst_recorder *r)
{
	return r ? r->h5.path : NULL;
}
