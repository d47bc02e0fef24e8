/*
 * `qst recover`: rebuild a session's HDF5 file from its journal alone.
 * The journal is checked line by line (CRC-32 per line). A torn or
 * garbled LAST line is what a crash mid-write leaves: it is dropped and
 * reported. A bad line anywhere else means the journal was damaged after
 * the fact: that is an error naming the line, and nothing is written.
 * The file is rebuilt by replaying the lines through the live recorder's
 * own functions (without a journal), so there is one HDF5 writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec_internal.h"

#define LOG_PREFIX "recover: "

#define MAX_FIELDS 32

struct jline {
	char *text;             /* NUL-terminated, CRC suffix cut off */
	size_t number;          /* 1-based */
};

struct parser {
	const char *journal;
	char *errbuf;
	size_t errlen;
	size_t line;            /* current line number for messages */
	char *field[MAX_FIELDS];
	size_t len[MAX_FIELDS]; /* unescaped length of string fields */
	int nfields;
	int closed;             /* close line: -1 none yet, else its flag */
};

static int fail(struct parser *p, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int rc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line)
		snprintf(p->errbuf, p->errlen, "%s line %zu: %s", p->journal,
			 p->line, msg);
	else
		snprintf(p->errbuf, p->errlen, "%s: %s", p->journal, msg);
	qst_err("%s", p->errbuf);
	return rc;
}

/* ------------------------------------------------------- line checking */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Check " *<8 hex>" at the end and the CRC over what precedes it;
 * cut the suffix off on success. */
static bool line_crc_ok(char *s, size_t len)
{
	if (len < 11 || s[len - 10] != ' ' || s[len - 9] != '*')
		return false;
	uint32_t want = 0;
	for (size_t i = len - 8; i < len; i++) {
		int v = hexval(s[i]);
		if (v < 0)
			return false;
		want = want << 4 | (uint32_t)v;
	}
	if (qst_crc32(s, len - 10) != want)
		return false;
	s[len - 10] = '\0';
	return true;
}

/*
 * Split the journal into checked lines. A last line that is unterminated
 * or fails its CRC is dropped (truncated_tail); any other bad line fails.
 */
static int split_lines(struct parser *p, char *data, size_t size,
		       struct jline **out, size_t *nout, bool *truncated)
{
	size_t cap = 1024, n = 0, number = 0;
	struct jline *lines = malloc(cap * sizeof(*lines));
	char *pos = data, *end = data + size;

	if (!lines)
		return QST_ERR_NOMEM;
	*truncated = false;
	while (pos < end) {
		char *nl = memchr(pos, '\n', (size_t)(end - pos));
		bool last = !nl || nl + 1 == end;
		size_t len = nl ? (size_t)(nl - pos) : (size_t)(end - pos);
		number++;
		bool ok = nl && memchr(pos, '\0', len) == NULL &&
			  line_crc_ok(pos, len);
		if (!ok) {
			if (last) {
				qst_warn("%s line %zu: torn last line dropped",
					 p->journal, number);
				*truncated = true;
				break;
			}
			p->line = number;
			free(lines);
			return fail(p, QST_ERR_CHECKSUM,
				    "CRC mismatch or malformed line (the journal "
				    "is damaged before its end)");
		}
		if (n == cap) {
			struct jline *q = realloc(lines, 2 * cap * sizeof(*q));
			if (!q) {
				free(lines);
				return QST_ERR_NOMEM;
			}
			lines = q;
			cap *= 2;
		}
		lines[n].text = pos;
		lines[n].number = number;
		n++;
		pos = nl + 1;
	}
	*out = lines;
	*nout = n;
	return QST_OK;
}

/* ------------------------------------------------------------ fields */

/* Unescape a string token in place; false on a bad escape. */
static bool unescape(char *s, size_t *outlen)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		switch (*++r) {
		case 's': *w++ = ' '; break;
		case '\\': *w++ = '\\'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'x': {
			int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
			if (lo < 0)
				return false;
			*w++ = (char)(hi << 4 | lo);
			r += 2;
			break;
		}
		default:
			return false;
		}
	}
	*w = '\0';
	*outlen = (size_t)(w - s);
	return true;
}

static int tokenize(struct parser *p, char *text)
{
	p->nfields = 0;
	char *save = NULL;
	for (char *t = strtok_r(text, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		if (p->nfields == MAX_FIELDS)
			return fail(p, QST_ERR_DATA, "too many fields");
		p->len[p->nfields] = 0;
		if (t[0] == '\'') {
			t++;
			if (!unescape(t, &p->len[p->nfields]))
				return fail(p, QST_ERR_DATA,
					    "bad escape in field %d",
					    p->nfields);
		}
		p->field[p->nfields++] = t;
	}
	if (p->nfields == 0)
		return fail(p, QST_ERR_DATA, "empty line");
	return QST_OK;
}

static int want_fields(struct parser *p, int n)
{
	if (p->nfields != n)
		return fail(p, QST_ERR_DATA, "'%s' record with %d fields, "
			    "expected %d", p->field[0], p->nfields - 1, n - 1);
	return QST_OK;
}

static int get_i64(struct parser *p, int i, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(p->field[i], &end, 10);
	if (errno || end == p->field[i] || *end)
		return fail(p, QST_ERR_DATA, "field %d: bad integer '%s'", i,
			    p->field[i]);
	*v = x;
	return QST_OK;
}

static int get_i32(struct parser *p, int i, int32_t *v)
{
	int64_t x;
	int rc = get_i64(p, i, &x);
	if (rc == QST_OK && (x < INT32_MIN || x > INT32_MAX))
		return fail(p, QST_ERR_DATA, "field %d: out of range", i);
	if (rc == QST_OK)
		*v = (int32_t)x;
	return rc;
}

static int get_f64(struct parser *p, int i, double *v)
{
	char *end;
	*v = strtod(p->field[i], &end);
	if (end == p->field[i] || *end)
		return fail(p, QST_ERR_DATA, "field %d: bad number '%s'", i,
			    p->field[i]);
	return QST_OK;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/* ------------------------------------------------------------- header */

struct header {
	struct qst_session_meta meta;
	char *protocol;         /* points into the journal buffer */
	char created_utc[48];
};

#define MSTR(name) { #name, offsetof(struct qst_session_meta, name), \
		     sizeof(((struct qst_session_meta *)0)->name) }
static const struct {
	const char *key;
	size_t offset, size;
} meta_strings[] = {
	MSTR(subject_id), MSTR(site), MSTR(side), MSTR(operator_name),
	MSTR(protocol_name), MSTR(protocol_version), MSTR(protocol_path),
	MSTR(protocol_sha256), MSTR(software_version), MSTR(station),
	MSTR(clock_source), MSTR(participant_profile),
};

static int header_meta_str(struct parser *p, struct header *h)
{
	const char *key = p->field[1], *val = p->field[2];
	if (strcmp(key, "created_utc") == 0) {
		copy_str(h->created_utc, sizeof(h->created_utc), val);
		return QST_OK;
	}
	if (strcmp(key, "sex") == 0) {
		h->meta.sex = val[0];
		return QST_OK;
	}
	for (size_t i = 0; i < sizeof(meta_strings) / sizeof(meta_strings[0]);
	     i++) {
		if (strcmp(key, meta_strings[i].key) == 0) {
			copy_str((char *)&h->meta + meta_strings[i].offset,
				 meta_strings[i].size, val);
			return QST_OK;
		}
	}
	qst_warn("%s line %zu: unknown metadata key '%s' ignored", p->journal,
		 p->line, key);
	return QST_OK;
}

static int header_line(struct parser *p, struct header *h)
{
	const char *type = p->field[0];
	int64_t i64;
	double f;
	int rc;

	if (strcmp(type, "meta") == 0) {
		rc = want_fields(p, 3);
		return rc ? rc : header_meta_str(p, h);
	}
	if (strcmp(type, "metai") == 0) {
		if ((rc = want_fields(p, 3)) || (rc = get_i64(p, 2, &i64)))
			return rc;
		if (strcmp(p->field[1], "age_years") == 0)
			h->meta.age_years = (int)i64;
		else if (strcmp(p->field[1], "origin_utc_ns") == 0)
			h->meta.origin_utc_ns = i64;
		else if (strcmp(p->field[1], "seed") == 0)
			h->meta.seed = (uint64_t)i64;
		return QST_OK;
	}
	if (strcmp(type, "metaf") == 0) {
		if ((rc = want_fields(p, 3)) || (rc = get_f64(p, 2, &f)))
			return rc;
		if (strcmp(p->field[1], "thermode_area_cm2") == 0)
			h->meta.thermode_area_cm2 = f;
		return QST_OK;
	}
	if (strcmp(type, "sim") == 0) {
		if ((rc = want_fields(p, 3)) || (rc = get_f64(p, 2, &f)))
			return rc;
		if (h->meta.n_sim_truth >= QST_SIM_TRUTH_MAX)
			return fail(p, QST_ERR_DATA, "too many sim values");
		int k = h->meta.n_sim_truth++;
		copy_str(h->meta.sim_truth[k].key,
			 sizeof(h->meta.sim_truth[k].key), p->field[1]);
		h->meta.sim_truth[k].value = f;
		return QST_OK;
	}
	if (strcmp(type, "protocol") == 0) {
		if ((rc = want_fields(p, 2)))
			return rc;
		h->meta.protocol_text = p->field[1];
		h->meta.protocol_len = p->len[1];
		return QST_OK;
	}
	return fail(p, QST_ERR_DATA, "unexpected '%s' record in the header",
		    type);
}

static int check_magic(struct parser *p)
{
	int64_t version;
	int rc;

	if (p->nfields < 1 || strcmp(p->field[0], QST_JOURNAL_MAGIC) != 0)
		return fail(p, QST_ERR_DATA, "not a qst journal");
	if ((rc = want_fields(p, 4)) || (rc = get_i64(p, 1, &version)))
		return rc;
	if (version != QST_JOURNAL_VERSION)
		return fail(p, QST_ERR_UNSUPPORTED,
			    "journal format version %" PRId64
			    " (this qst reads %d)", version,
			    QST_JOURNAL_VERSION);
	return QST_OK;
}

/* ------------------------------------------------------------- records */

static int replay_device(struct parser *p, struct qst_recorder *r)
{
	struct qst_device_record d;
	int rc = want_fields(p, 7);
	if (rc)
		return rc;
	memset(&d, 0, sizeof(d));
	copy_str(d.role, sizeof(d.role), p->field[1]);
	copy_str(d.driver, sizeof(d.driver), p->field[2]);
	copy_str(d.model, sizeof(d.model), p->field[3]);
	copy_str(d.serial, sizeof(d.serial), p->field[4]);
	copy_str(d.firmware, sizeof(d.firmware), p->field[5]);
	copy_str(d.transport, sizeof(d.transport), p->field[6]);
	return qst_recorder_add_device(r, &d);
}

static int replay_sample(struct parser *p, struct qst_recorder *r)
{
	struct qst_temp_sample s;
	int rc = want_fields(p, 5 + QST_THERMODE_ZONES);
	if (!rc) rc = get_i64(p, 1, &s.t_ns);
	if (!rc) rc = get_f64(p, 2, &s.commanded_c);
	if (!rc) rc = get_f64(p, 3, &s.measured_c);
	if (!rc) rc = get_f64(p, 4, &s.neutral_c);
	for (int z = 0; !rc && z < QST_THERMODE_ZONES; z++)
		rc = get_f64(p, 5 + z, &s.zone_c[z]);
	return rc ? rc : qst_recorder_temperature(r, &s);
}

static int replay_pressure(struct parser *p, struct qst_recorder *r)
{
	struct qst_pressure_sample s;
	int rc = want_fields(p, 4);
	if (!rc) rc = get_i64(p, 1, &s.t_ns);
	if (!rc) rc = get_f64(p, 2, &s.force_n);
	if (!rc) rc = get_f64(p, 3, &s.kpa);
	return rc ? rc : qst_recorder_pressure(r, &s);
}

static int replay_rating(struct parser *p, struct qst_recorder *r)
{
	struct qst_rating_sample s;
	int rc = want_fields(p, 4);
	if (!rc) rc = get_i64(p, 1, &s.t_ns);
	if (!rc) rc = get_f64(p, 2, &s.value);
	if (!rc) rc = get_i32(p, 3, &s.raw);
	return rc ? rc : qst_recorder_rating(r, &s);
}

static int replay_event(struct parser *p, struct qst_recorder *r)
{
	struct qst_event_record e;
	int rc = want_fields(p, 8);
	if (!rc) rc = get_i64(p, 1, &e.t_ns);
	if (!rc) rc = get_i32(p, 2, &e.code);
	if (!rc) rc = get_i32(p, 3, &e.source);
	if (!rc) rc = get_i32(p, 4, &e.trial);
	if (!rc) rc = get_f64(p, 5, &e.value);
	if (!rc) rc = get_f64(p, 6, &e.value2);
	if (rc)
		return rc;
	e.message = p->field[7];
	return qst_recorder_event(r, &e);
}

static int replay_trial(struct parser *p, struct qst_recorder *r)
{
	struct qst_trial_record t;
	int rc = want_fields(p, 20);
	if (!rc) rc = get_i32(p, 1, &t.trial_id);
	if (!rc) rc = get_i32(p, 2, &t.test);
	if (!rc) rc = get_i32(p, 3, &t.repetition);
	if (!rc) rc = get_i32(p, 4, &t.direction);
	if (!rc) rc = get_i64(p, 5, &t.t_start_ns);
	if (!rc) rc = get_i64(p, 6, &t.t_stop_ns);
	if (!rc) rc = get_i64(p, 7, &t.t_onset_ns);
	if (!rc) rc = get_i64(p, 8, &t.t_response_ns);
	if (!rc) rc = get_f64(p, 9, &t.baseline_c);
	if (!rc) rc = get_f64(p, 10, &t.rate_c_s);
	if (!rc) rc = get_f64(p, 11, &t.return_rate_c_s);
	if (!rc) rc = get_f64(p, 12, &t.cutoff_c);
	if (!rc) rc = get_f64(p, 13, &t.value_measured);
	if (!rc) rc = get_f64(p, 14, &t.value_commanded);
	if (!rc) rc = get_f64(p, 15, &t.latency_s);
	if (!rc) rc = get_f64(p, 16, &t.device_rt_s);
	if (!rc) rc = get_i32(p, 17, &t.key);
	if (!rc) rc = get_i32(p, 18, &t.quality);
	if (!rc) rc = get_i32(p, 19, &t.flags);
	return rc ? rc : qst_recorder_trial(r, &t);
}

static int replay_body(struct parser *p, struct qst_recorder *r,
		       const struct jline *lines, size_t first, size_t n,
		       struct qst_recover_report *rep)
{
	for (size_t i = first; i < n; i++) {
		p->line = lines[i].number;
		if (p->closed >= 0)
			return fail(p, QST_ERR_DATA, "record after 'close'");
		int rc = tokenize(p, lines[i].text);
		if (rc)
			return rc;
		const char *type = p->field[0];
		if (strcmp(type, "s") == 0) {
			rc = replay_sample(p, r);
			rep->samples += !rc;
		} else if (strcmp(type, "p") == 0) {
			rc = replay_pressure(p, r);
			rep->pressure_samples += !rc;
		} else if (strcmp(type, "r") == 0) {
			rc = replay_rating(p, r);
			rep->rating_samples += !rc;
		} else if (strcmp(type, "e") == 0) {
			rc = replay_event(p, r);
			rep->events += !rc;
		} else if (strcmp(type, "t") == 0) {
			rc = replay_trial(p, r);
			rep->trials += !rc;
		} else if (strcmp(type, "dev") == 0) {
			rc = replay_device(p, r);
			rep->devices += !rc;
		} else if (strcmp(type, "close") == 0) {
			int64_t c;
			if ((rc = want_fields(p, 2)) || (rc = get_i64(p, 1, &c)))
				return rc;
			p->closed = c ? 1 : 0;
		} else {
			return fail(p, QST_ERR_DATA, "unknown record '%s'",
				    type);
		}
		if (rc)
			return fail(p, rc, "cannot write the record: %s",
				    qst_strerror(rc));
	}
	return QST_OK;
}

/* ------------------------------------------------------------- driver */

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* On disk before it is renamed: else a power cut could leave the name
 * pointing at an empty file. */
static int sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd >= 0 && fsync(fd) == 0 ? QST_OK : QST_ERR_IO;
	if (fd >= 0)
		close(fd);
	return rc;
}

static int read_header(struct parser *p, const struct jline *lines, size_t n,
		       struct header *h, size_t *body)
{
	memset(h, 0, sizeof(*h));
	if (n == 0) {
		p->line = 0;
		return fail(p, QST_ERR_DATA, "empty journal (no complete line)");
	}
	p->line = lines[0].number;
	int rc = tokenize(p, lines[0].text);
	if (rc || (rc = check_magic(p)))
		return rc;
	for (size_t i = 1; i < n; i++) {
		p->line = lines[i].number;
		if ((rc = tokenize(p, lines[i].text)))
			return rc;
		if (strcmp(p->field[0], "begin") == 0) {
			*body = i + 1;
			return QST_OK;
		}
		if ((rc = header_line(p, h)))
			return rc;
	}
	p->line = 0;
	return fail(p, QST_ERR_DATA, "journal ends inside its header "
		    "(no 'begin' line): nothing to recover");
}

int qst_recover(const char *journal_path, const char *out_h5, bool overwrite,
		struct qst_recover_report *report, char *errbuf, size_t errlen)
{
	char dummy[8];
	struct parser p = { journal_path, errbuf ? errbuf : dummy,
			    errbuf ? errlen : sizeof(dummy), 0, {0}, {0}, 0,
			    -1 };
	struct qst_recover_report rep;
	struct jline *lines = NULL;
	struct header h;
	char *data = NULL;
	size_t size, n = 0, body = 0;
	bool truncated;

	memset(&rep, 0, sizeof(rep));
	if (report)
		*report = rep;
	if (p.errlen)
		p.errbuf[0] = '\0';
	if (!journal_path || !out_h5)
		return QST_ERR_ARG;
	if (same_file(journal_path, out_h5))
		return fail(&p, QST_ERR_ARG, "output is the journal itself");
	if (!overwrite && qst_path_taken(out_h5))
		return fail(&p, QST_ERR_EXISTS,
			    "output %s exists; refusing to overwrite it", out_h5);
	int rc = qst_read_file(journal_path, &data, &size);
	if (rc)
		return fail(&p, rc, "cannot read: %s", qst_strerror(rc));
	rc = split_lines(&p, data, size, &lines, &n, &truncated);
	if (rc == QST_OK)
		rc = read_header(&p, lines, n, &h, &body);
	if (rc) {
		free(lines);
		free(data);
		return rc;
	}
	rep.truncated_tail = truncated;

	/* Write-then-rename: the file is rebuilt under a private temp name
	 * beside out_h5 and takes its name only when complete. */
	char *tmp = NULL;
	int fd = qst_temp_beside(out_h5, &tmp);
	if (fd >= 0)
		close(fd);
	struct qst_recorder *r = fd >= 0 ? malloc(sizeof(*r)) : NULL;
	rc = fd < 0 ? fd : !r ? QST_ERR_NOMEM
		: qst_rec_open(r, tmp, &h.meta, h.created_utc, true, false);
	if (rc) {
		if (tmp)
			unlink(tmp);
		free(tmp);
		free(r);
		free(lines);
		free(data);
		p.line = 0;
		return fail(&p, rc, "cannot create %s: %s", out_h5,
			    qst_strerror(rc));
	}
	rc = replay_body(&p, r, lines, body, n, &rep);
	/* close 1 marks complete; close 0 or no close line does not. */
	bool complete = p.closed == 1;
	int rc2 = qst_recorder_close(r, rc == QST_OK && complete);
	rep.complete = rc == QST_OK && complete;
	if (rc == QST_OK && rc2) {
		p.line = 0;
		rc = fail(&p, rc2, "cannot finish %s: %s", out_h5,
			  qst_strerror(rc2));
	}
	if (rc == QST_OK && (rc2 = sync_path(tmp))) {
		p.line = 0;
		rc = fail(&p, rc2, "cannot sync %s: %s", out_h5,
			  strerror(errno));
	}
	if (rc == QST_OK && (rc2 = qst_publish_file(tmp, out_h5, overwrite))) {
		p.line = 0;
		rc = fail(&p, rc2, rc2 == QST_ERR_EXISTS
			  ? "output %s appeared meanwhile; not replaced"
			  : "cannot give the file its name %s", out_h5);
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	free(lines);
	free(data);
	if (report)
		*report = rep;
	if (rc == QST_OK)
		qst_info("%s → %s: %d trials, %d events, %d samples%s%s",
			 journal_path, out_h5, rep.trials, rep.events,
			 rep.samples, rep.complete ? ", complete" : "",
			 rep.truncated_tail ? ", torn last line dropped" : "");
	return rc;
}
