/*
 * Reference tables: versioned CSV data with a checksum, never compiled in,
 * so a lab can swap in the verified DFNS table (qst-domain.md §4, §10.1).
 *
 * Format: '#' comment lines, of which "# id: ..." (required) and
 * "# source: ..." are read; then the header line
 *   param,site,sex,age_band,mean,sd,flagged
 * and one line per cell. Parsing is strict: any malformed line rejects the
 * whole table, because a silently skipped cell would later look like
 * "no reference" rather than like a broken file.
 */
#define LOG_PREFIX "reftable: "

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis_internal.h"
#include "qst_analysis.h"

#define REF_FILE_NAME "dfns_reference_v1.csv"
#define REF_HEADER "param,site,sex,age_band,mean,sd,flagged"
#define REF_FIELDS 7

struct ref_entry {
	enum qst_param param;
	char site[32];
	char sex;
	int age_band;
	double mean, sd;
	bool flagged;
};

struct qst_reftable {
	char id[64];
	char source[512];
	char sha256[65];
	struct ref_entry *cells;
	size_t n_cells, cap_cells;
};

/* Everything the parser needs to name the place of a problem. */
struct parse_ctx {
	const char *path;
	int line;
	char *errbuf;
	size_t errlen;
};

static int parse_fail(struct parse_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int parse_fail(struct parse_ctx *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->errbuf && c->errlen)
		snprintf(c->errbuf, c->errlen, "%s:%d: %s", c->path, c->line,
			 why);
	qst_dbg("%s:%d: %s", c->path, c->line, why);
	return QST_ERR_DATA;
}

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	if (!errbuf || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* A number must be the whole field and finite: "1.2x" or "nan" are typos. */
static bool parse_double(const char *s, double *out)
{
	if (!*s)
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static bool valid_site(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len >= sizeof(((struct ref_entry *)0)->site))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static const struct ref_entry *find_cell(const struct qst_reftable *t,
					 enum qst_param p, const char *site,
					 char sex, int band)
{
	for (size_t i = 0; i < t->n_cells; i++) {
		const struct ref_entry *e = &t->cells[i];
		if (e->param == p && e->age_band == band && e->sex == sex &&
		    strcasecmp(e->site, site) == 0)
			return e;
	}
	return NULL;
}

static int add_cell(struct qst_reftable *t, const struct ref_entry *e)
{
	if (t->n_cells == t->cap_cells) {
		size_t cap = t->cap_cells ? t->cap_cells * 2 : 64;
		struct ref_entry *cells = realloc(t->cells, cap * sizeof(*cells));
		if (!cells)
			return QST_ERR_NOMEM;
		t->cells = cells;
		t->cap_cells = cap;
	}
	t->cells[t->n_cells++] = *e;
	return QST_OK;
}

static int split_fields(char *line, char *fields[], int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		char *comma = strchr(p, ',');
		if (n == max)
			return max + 1; /* too many */
		fields[n++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	for (int i = 0; i < n; i++)
		fields[i] = trim(fields[i]);
	return n;
}

static int parse_cell(struct parse_ctx *c, struct qst_reftable *t, char *line)
{
	char *f[REF_FIELDS];
	int n = split_fields(line, f, REF_FIELDS);
	if (n != REF_FIELDS)
		return parse_fail(c, "expected %d comma-separated fields "
				  "(%s), found %s", REF_FIELDS, REF_HEADER,
				  n > REF_FIELDS ? "more" : "fewer");

	struct ref_entry e = { 0 };
	int p = qst_param_from_name(f[0]);
	if (p < 0)
		return parse_fail(c, "unknown parameter '%s'", f[0]);
	e.param = (enum qst_param)p;

	if (!valid_site(f[1]))
		return parse_fail(c, "bad site '%s' (letters, digits, '_', "
				  "'-', at most 31)", f[1]);
	snprintf(e.site, sizeof(e.site), "%s", f[1]);

	if (strlen(f[2]) != 1 || (toupper((unsigned char)f[2][0]) != 'F' &&
				  toupper((unsigned char)f[2][0]) != 'M'))
		return parse_fail(c, "bad sex '%s' (F or M)", f[2]);
	e.sex = (char)toupper((unsigned char)f[2][0]);

	double band;
	if (!parse_double(f[3], &band) || band != floor(band) || band < 1 ||
	    band > 5)
		return parse_fail(c, "bad age_band '%s' (1 to 5, §4.4)", f[3]);
	e.age_band = (int)band;

	if (!parse_double(f[4], &e.mean))
		return parse_fail(c, "bad number '%s' in column mean", f[4]);
	if (!parse_double(f[5], &e.sd))
		return parse_fail(c, "bad number '%s' in column sd", f[5]);
	/* SD 0 occurs only in the cells that are never z-scored (PHS, DMA,
	 * qst-domain.md §3.6); anywhere else it would divide by zero. */
	if (e.sd < 0 || (e.sd == 0 && qst_param_info(e.param)->z_scored))
		return parse_fail(c, "sd %s must be > 0 for %s", f[5],
				  qst_param_name(e.param));

	if (strcmp(f[6], "0") != 0 && strcmp(f[6], "1") != 0)
		return parse_fail(c, "bad flagged '%s' (0 or 1)", f[6]);
	e.flagged = f[6][0] == '1';

	if (find_cell(t, e.param, e.site, e.sex, e.age_band))
		return parse_fail(c, "duplicate cell %s %s %c band %d",
				  qst_param_name(e.param), e.site, e.sex,
				  e.age_band);
	int ret = add_cell(t, &e);
	if (ret < 0)
		return parse_fail(c, "out of memory");
	return QST_OK;
}

/* "# key: value" lines carry the table's identity; other comments are free. */
static void parse_comment(struct qst_reftable *t, char *line)
{
	char *body = trim(line + 1);
	char *colon = strchr(body, ':');
	if (!colon)
		return;
	*colon = '\0';
	char *key = trim(body), *value = trim(colon + 1);
	if (strcasecmp(key, "id") == 0)
		snprintf(t->id, sizeof(t->id), "%s", value);
	else if (strcasecmp(key, "source") == 0)
		snprintf(t->source, sizeof(t->source), "%s", value);
}

static int parse_table(struct parse_ctx *c, struct qst_reftable *t, char *text)
{
	bool seen_header = false;
	char *next = text;
	c->line = 0;
	while (next) {
		char *line = next;
		char *nl = strchr(line, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		if (!nl && !*line)
			break; /* text ended with a newline */
		c->line++;
		char *s = trim(line);
		if (*s == '\0')
			continue;
		if (*s == '#') {
			parse_comment(t, s);
			continue;
		}
		if (!seen_header) {
			if (strcasecmp(s, REF_HEADER) != 0)
				return parse_fail(c, "expected header line "
						  "'%s'", REF_HEADER);
			seen_header = true;
			continue;
		}
		int ret = parse_cell(c, t, s);
		if (ret < 0)
			return ret;
	}
	if (!t->id[0])
		return parse_fail(c, "no '# id: ...' comment line naming the "
				  "table");
	if (t->n_cells == 0)
		return parse_fail(c, "no reference cells");
	return QST_OK;
}

/* PATH.sha256 as written by sha256sum: 64 hex digits, then the name. */
static int check_digest(const char *path, const char *actual, char *errbuf,
			size_t errlen)
{
	char sum_path[4096];
	if ((size_t)snprintf(sum_path, sizeof(sum_path), "%s.sha256", path) >=
	    sizeof(sum_path)) {
		set_err(errbuf, errlen, "%s: path too long", path);
		return QST_ERR_ARG;
	}
	char *text;
	int ret = qst_read_file(sum_path, &text, NULL);
	if (ret == QST_ERR_NOTFOUND) {
		qst_info("%s: no checksum file, not verified", path);
		return QST_OK;
	}
	if (ret < 0) {
		set_err(errbuf, errlen, "%s: cannot read: %s", sum_path,
			qst_strerror(ret));
		return ret;
	}
	char want[65];
	const char *s = text;
	while (isspace((unsigned char)*s))
		s++;
	size_t i;
	for (i = 0; i < 64 && isxdigit((unsigned char)s[i]); i++)
		want[i] = (char)tolower((unsigned char)s[i]);
	want[i] = '\0';
	bool well_formed = i == 64 && (s[64] == '\0' ||
				       isspace((unsigned char)s[64]));
	free(text);
	if (!well_formed) {
		set_err(errbuf, errlen, "%s: not a SHA-256 digest line",
			sum_path);
		return QST_ERR_DATA;
	}
	if (strcmp(want, actual) != 0) {
		set_err(errbuf, errlen,
			"%s: SHA-256 mismatch: file is %s, %s expects %s",
			path, actual, sum_path, want);
		qst_dbg("%s: SHA-256 mismatch (file %s, expected %s)", path,
			actual, want);
		return QST_ERR_CHECKSUM;
	}
	return QST_OK;
}

int qst_reftable_load(const char *path, struct qst_reftable **out,
		      char *errbuf, size_t errlen)
{
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!path || !out) {
		set_err(errbuf, errlen, "reference table: no path given");
		return QST_ERR_ARG;
	}
	*out = NULL;

	char *text;
	size_t len;
	int ret = qst_read_file(path, &text, &len);
	if (ret < 0) {
		set_err(errbuf, errlen, "%s: cannot read reference table: %s",
			path, qst_strerror(ret));
		return ret;
	}
	if (strlen(text) != len) {
		set_err(errbuf, errlen, "%s: contains a NUL byte, not a CSV",
			path);
		free(text);
		return QST_ERR_DATA;
	}

	struct qst_reftable *t = calloc(1, sizeof(*t));
	if (!t) {
		free(text);
		return QST_ERR_NOMEM;
	}
	qst_sha256_hex(text, len, t->sha256);

	ret = check_digest(path, t->sha256, errbuf, errlen);
	if (ret == QST_OK) {
		struct parse_ctx c = { path, 0, errbuf, errlen };
		ret = parse_table(&c, t, text);
	}
	free(text);
	if (ret < 0) {
		qst_reftable_free(t);
		return ret;
	}
	qst_info("%s: table '%s', %zu cells, sha256 %s", path, t->id,
		 t->n_cells, t->sha256);
	*out = t;
	return QST_OK;
}

void qst_reftable_free(struct qst_reftable *t)
{
	if (!t)
		return;
	free(t->cells);
	free(t);
}

const char *qst_reftable_id(const struct qst_reftable *t)
{
	return t ? t->id : "";
}

const char *qst_reftable_source(const struct qst_reftable *t)
{
	return t ? t->source : "";
}

const char *qst_reftable_sha256(const struct qst_reftable *t)
{
	return t ? t->sha256 : "";
}

const char *qst_age_band_label(int band)
{
	static const char *const labels[] = {
		"<20", "20-29", "30-39", "40-49", "50-59", "60+",
	};
	return band >= 0 && band <= 5 ? labels[band] : "?";
}

/* "hand/F/30-39": also used for results without a reference cell. */
void qst_format_stratum(const char *site, char sex, int band, char *buf,
			size_t len)
{
	snprintf(buf, len, "%s/%c/%s", site && *site ? site : "?",
		 sex ? (char)toupper((unsigned char)sex) : '?',
		 qst_age_band_label(band));
}

int qst_reftable_lookup(const struct qst_reftable *t, enum qst_param p,
			const char *site, char sex, double age_years,
			struct qst_refcell *out)
{
	if (!t || !site || !out || !qst_param_info(p))
		return QST_ERR_ARG;
	int band = qst_age_band(age_years);
	if (band == 0)
		return QST_ERR_NOTFOUND; /* §4.4: never clamp to 20-29 */
	const struct ref_entry *e =
		find_cell(t, p, site, (char)toupper((unsigned char)sex), band);
	if (!e)
		return QST_ERR_NOTFOUND;
	out->mean = e->mean;
	out->sd = e->sd;
	out->age_band = band;
	out->flagged = e->flagged;
	qst_format_stratum(e->site, e->sex, band, out->stratum,
			   sizeof(out->stratum));
	return QST_OK;
}

const char *qst_reftable_default_path(void)
{
	static char path[4096];
	const char *dir = getenv("QST_DATADIR");
	if (!dir || !*dir)
		dir = QST_SOURCE_DATADIR;
	snprintf(path, sizeof(path), "%s/%s", dir, REF_FILE_NAME);
	return path;
}
