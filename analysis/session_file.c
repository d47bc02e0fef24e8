/*
 * Reading a session file back (metadata + trial table) and writing the
 * /analysis group into it. Works on the file alone; layout in
 * docs/hdf5-schema.md. HDF5's own error-stack printing is switched off
 * so that a bad file gives one clean message in errbuf.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "analysis_internal.h"
#include "session_h5.h"
#include "qst_report.h"
#include "qst_session_file.h"

#define LOG_PREFIX "session-file: "

#define SCHEMA_NAME "qst-session"
#define SCHEMA_MAJOR 1
/* Version of the formulas (qst-domain.md §2–§3) behind /analysis values;
 * bump when a formula changes. */
#define FORMULA_VERSION "1.0"
/* More trial rows than any session can hold: a claim beyond it is a
 * damaged dataspace, refused before memory is allocated for it. */
#define MAX_TRIAL_ROWS ((hssize_t)1 << 20)
/* Longest fixed-size string attribute read; ours are under 100 bytes. */
#define MAX_ATTR_STR 4096


int qst_session_err(char *errbuf, size_t errlen, int rc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote strings from the file: keep them printable. */
	qst_text_sanitize(msg, false);
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", msg);
	qst_err("%s", msg);
	return rc;
}

/* --------------------------------------------------------- reading */

/* Open attribute NAME if it holds exactly one value (scalar or [1]): an
 * array would overrun the single value H5Aread is given. -1 otherwise. */
static hid_t open_single_attr(hid_t obj, const char *name)
{
	if (H5Aexists(obj, name) <= 0)
		return -1;
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	if (a < 0)
		return -1;
	hid_t sp = H5Aget_space(a);
	hssize_t n = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
	if (sp >= 0)
		H5Sclose(sp);
	if (n != 1) {
		H5Aclose(a);
		return -1;
	}
	return a;
}

/* A string attribute (vlen or fixed) into buf; false if absent/unreadable. */
static bool read_attr_str(hid_t obj, const char *name, char *buf, size_t len)
{
	hid_t a = open_single_attr(obj, name);
	if (a < 0)
		return false;
	hid_t ft = H5Aget_type(a);
	bool ok = false;
	size_t fixed = H5Tget_size(ft);

	if (H5Tget_class(ft) == H5T_STRING &&
	    (H5Tis_variable_str(ft) > 0 || (fixed > 0 && fixed <= MAX_ATTR_STR))) {
		hid_t mt = H5Tcopy(H5T_C_S1);
		if (H5Tis_variable_str(ft) > 0) {
			char *s = NULL;
			H5Tset_size(mt, H5T_VARIABLE);
			H5Tset_cset(mt, H5Tget_cset(ft));
			if (H5Aread(a, mt, &s) >= 0 && s) {
				snprintf(buf, len, "%s", s);
				H5free_memory(s);
				ok = true;
			}
		} else {
			/* +1: a NULLPAD/SPACEPAD string fills all n bytes. */
			size_t n = fixed;
			char *s = calloc(1, n + 1);
			H5Tset_size(mt, n);
			H5Tset_cset(mt, H5Tget_cset(ft));
			if (s && H5Aread(a, mt, s) >= 0) {
				snprintf(buf, len, "%s", s);
				ok = true;
			}
			free(s);
		}
		H5Tclose(mt);
	}
	H5Tclose(ft);
	H5Aclose(a);
	/* Shown on the terminal and in reports: a damaged or hostile file
	 * must not bring escape sequences or broken UTF-8 along. */
	if (ok)
		qst_text_sanitize(buf, false);
	return ok;
}

static bool read_attr_double(hid_t obj, const char *name, double *v)
{
	hid_t a = open_single_attr(obj, name);
	if (a < 0)
		return false;
	hid_t ft = H5Aget_type(a);
	H5T_class_t cls = H5Tget_class(ft);
	bool ok = (cls == H5T_INTEGER || cls == H5T_FLOAT) &&
		  H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
	H5Tclose(ft);
	H5Aclose(a);
	return ok;
}

/* "1.1.0" → 1; -1 unless it starts with a plain number and a dot or ends. */
static long schema_major(const char *version)
{
	char *end;
	errno = 0;
	long v = strtol(version, &end, 10);
	if (errno || end == version || version[0] == '-' || version[0] == '+' ||
	    (*end != '.' && *end != '\0'))
		return -1;
	return v;
}

/* Open file after the checks that give a clear reason for a bad file;
 * messages name path (the session file when file is a copy of it). */
static int open_session_as(const char *file, const char *path,
			   unsigned flags, hid_t *out, char *errbuf,
			   size_t errlen)
{
	char name[64] = "", version[32] = "";

	*out = -1;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	if (access(file, F_OK) != 0)
		return qst_session_err(errbuf, errlen, QST_ERR_NOTFOUND, "%s: %s", path,
			       strerror(errno));
	if (H5Fis_hdf5(file) <= 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: not an HDF5 file", path);
	hid_t f = H5Fopen(file, flags, H5P_DEFAULT);
	if (f < 0)
		return qst_session_err(errbuf, errlen, QST_ERR_HDF5,
			       "%s: cannot open the HDF5 file%s (still being "
			       "recorded, or no permission?)", path,
			       flags == H5F_ACC_RDWR ? " for writing" : "");
	int rc = QST_OK;
	if (!read_attr_str(f, "schema_name", name, sizeof(name)) ||
	    strcmp(name, SCHEMA_NAME) != 0)
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: not a qst session file (root attribute "
			     "schema_name is '%s', expected '%s')", path, name,
			     SCHEMA_NAME);
	else if (!read_attr_str(f, "schema_version", version,
				sizeof(version)) ||
		 schema_major(version) != SCHEMA_MAJOR)
		rc = qst_session_err(errbuf, errlen, QST_ERR_UNSUPPORTED,
			     "%s: schema_version '%s' is not supported (this "
			     "qst reads %d.x)", path, version, SCHEMA_MAJOR);
	if (rc) {
		H5Fclose(f);
		return rc;
	}
	*out = f;
	return QST_OK;
}

static int open_session(const char *path, unsigned flags, hid_t *out,
			char *errbuf, size_t errlen)
{
	return open_session_as(path, path, flags, out, errbuf, errlen);
}

int qst_session_open_ro(const char *path, hid_t *out, char *errbuf,
			size_t errlen)
{
	return open_session(path, H5F_ACC_RDONLY, out, errbuf, errlen);
}

static int load_metadata(hid_t f, const char *path, struct qst_session_data *d,
			 char *errbuf, size_t errlen)
{
	char sex[8] = "";
	const char *missing = NULL;

	if (H5Lexists(f, "metadata", H5P_DEFAULT) <= 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: missing group /metadata", path);
	hid_t g = H5Gopen2(f, "metadata", H5P_DEFAULT);
	if (g < 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: /metadata is not a group", path);
	if (!read_attr_str(g, "subject_id", d->subject_id,
			   sizeof(d->subject_id)))
		missing = "subject_id";
	else if (!read_attr_str(g, "sex", sex, sizeof(sex)))
		missing = "sex";
	else if (!read_attr_double(g, "age_years", &d->subject.age_years))
		missing = "age_years";
	else if (!read_attr_str(g, "site", d->subject.site,
				sizeof(d->subject.site)))
		missing = "site";
	else if (!read_attr_str(g, "protocol_name", d->protocol_name,
				sizeof(d->protocol_name)))
		missing = "protocol_name";
	else if (!read_attr_str(g, "session_start_utc", d->session_start_time,
				sizeof(d->session_start_time)))
		missing = "session_start_utc";
	H5Gclose(g);
	if (missing)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: attribute /metadata/%s is missing or not "
			       "a single value of the right type", path,
			       missing);
	d->subject.sex = sex[0];
	/* Banding casts the age to int: refuse what no subject can be. */
	if (!(d->subject.age_years >= 0.0 && d->subject.age_years <= 150.0))
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: /metadata/age_years is %g, not an age in "
			       "years", path, d->subject.age_years);
	return QST_OK;
}

/* Read /trials/NAME (1-D, n rows) converted to mtype; n = -1 on first call. */
static int read_column(hid_t g, const char *path, const char *name,
		       hid_t mtype, void **out, hssize_t *n, char *errbuf,
		       size_t errlen)
{
	if (H5Lexists(g, name, H5P_DEFAULT) <= 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: missing dataset /trials/%s", path, name);
	hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
	hid_t sp = H5Dget_space(ds), ft = H5Dget_type(ds);
	hssize_t rows = H5Sget_simple_extent_ndims(sp) == 1
				? H5Sget_simple_extent_npoints(sp) : -1;
	H5T_class_t cls = H5Tget_class(ft);
	int rc = QST_OK;

	if (ds < 0) {
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: /trials/%s is not a dataset", path, name);
	} else if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: /trials/%s is not a numeric column", path,
			     name);
	} else if (rows > MAX_TRIAL_ROWS) {
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: /trials/%s claims %lld rows (a session has "
			     "at most %lld)", path, name, (long long)rows,
			     (long long)MAX_TRIAL_ROWS);
	} else if (rows < 0 || (*n >= 0 && rows != *n)) {
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: /trials/%s is not a 1-D column of the same "
			     "length as the others", path, name);
	} else {
		*n = rows;
		*out = calloc((size_t)rows + 1, H5Tget_size(mtype));
		if (!*out)
			rc = QST_ERR_NOMEM;
		else if (rows > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL,
					     H5P_DEFAULT, *out) < 0)
			rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
				     "%s: cannot read /trials/%s", path, name);
	}
	H5Tclose(ft);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

static int load_trials(hid_t f, const char *path, struct qst_session_data *d,
		       char *errbuf, size_t errlen)
{
	enum { TEST, REP, DIR, VAL, BASE, QUAL, FLAGS, NCOL };
	static const char *const names[NCOL] = {
		"test", "repetition", "direction", "value_measured",
		"baseline_c", "quality", "flags",
	};
	void *col[NCOL] = { 0 };
	hssize_t n = -1;
	int rc = QST_OK;

	if (H5Lexists(f, "trials", H5P_DEFAULT) <= 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: missing group /trials", path);
	hid_t g = H5Gopen2(f, "trials", H5P_DEFAULT);
	if (g < 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: /trials is not a group", path);
	for (int c = 0; c < NCOL && rc == QST_OK; c++) {
		hid_t mt = (c == VAL || c == BASE) ? H5T_NATIVE_DOUBLE
						    : H5T_NATIVE_INT;
		rc = read_column(g, path, names[c], mt, &col[c], &n, errbuf,
				 errlen);
	}
	H5Gclose(g);
	if (rc == QST_OK) {
		d->trials = calloc((size_t)n + 1, sizeof(*d->trials));
		if (!d->trials)
			rc = QST_ERR_NOMEM;
	}
	for (hssize_t i = 0; rc == QST_OK && i < n; i++) {
		struct qst_trial_view *t = &d->trials[i];
		int test = ((int *)col[TEST])[i];
		/* Every test name lookup indexes by this code. */
		if (test < 0 || test >= QST_PARAM_COUNT) {
			rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
				     "%s: /trials/test row %lld is %d, not a "
				     "DFNS test code (0..%d)", path,
				     (long long)i, test, QST_PARAM_COUNT - 1);
			break;
		}
		t->test = (enum qst_param)test;
		t->repetition = ((int *)col[REP])[i];
		t->direction = ((int *)col[DIR])[i];
		t->value = ((double *)col[VAL])[i];
		t->baseline = ((double *)col[BASE])[i];
		t->quality = ((int *)col[QUAL])[i];
		t->flags = (unsigned)((int *)col[FLAGS])[i];
	}
	if (rc == QST_OK)
		d->n_trials = (size_t)n;
	for (int c = 0; c < NCOL; c++)
		free(col[c]);
	return rc;
}

/* In the reader child: the session data as one blob, trials after it. */
static int load_child(void *ctx, void **blob, size_t *len, char *errbuf,
		      size_t errlen)
{
	const char *path = ctx;
	struct qst_session_data d = { 0 };
	hid_t f;
	int rc = open_session(path, H5F_ACC_RDONLY, &f, errbuf, errlen);
	if (rc)
		return rc;
	rc = load_metadata(f, path, &d, errbuf, errlen);
	if (rc == QST_OK)
		rc = load_trials(f, path, &d, errbuf, errlen);
	H5Fclose(f);
	size_t tlen = d.n_trials * sizeof(*d.trials);
	char *b = rc ? NULL : malloc(sizeof(d) + tlen);
	if (rc == QST_OK && !b)
		rc = qst_session_err(errbuf, errlen, QST_ERR_NOMEM,
			     "%s: out of memory for %zu trials", path,
			     d.n_trials);
	if (b) {
		memcpy(b, &d, sizeof(d));
		memcpy(b + sizeof(d), d.trials, tlen);
		*blob = b;
		*len = sizeof(d) + tlen;
	}
	free(d.trials);
	return rc;
}

int qst_session_load(const char *path, struct qst_session_data **out,
		     char *errbuf, size_t errlen)
{
	void *blob;
	size_t len;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!path || !out)
		return qst_session_err(errbuf, errlen, QST_ERR_ARG,
			       "session_load: missing path or result");
	*out = NULL;
	int rc = qst_run_isolated(path, load_child, (void *)path, &blob, &len,
				  errbuf, errlen);
	struct qst_session_data *d = calloc(1, sizeof(*d));
	if (rc == QST_OK && !d)
		rc = QST_ERR_NOMEM;
	if (rc == QST_OK && len < sizeof(*d))
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: the reader sent a short answer", path);
	if (rc == QST_OK) {
		memcpy(d, blob, sizeof(*d));
		size_t tlen = d->n_trials * sizeof(*d->trials);
		d->trials = calloc(d->n_trials + 1, sizeof(*d->trials));
		if (len != sizeof(*d) + tlen || !d->trials) {
			free(d->trials);
			rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
				     "%s: the reader sent a short answer", path);
		} else {
			memcpy(d->trials, (char *)blob + sizeof(*d), tlen);
		}
	}
	free(blob);
	if (rc) {
		free(d);
		return rc;
	}
	*out = d;
	return QST_OK;
}

void qst_session_data_free(struct qst_session_data *d)
{
	if (!d)
		return;
	free(d->trials);
	free(d);
}

/* --------------------------------------------------------- writing */

static hid_t vlen_str(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	return t;
}

static bool attr_str(hid_t obj, const char *name, const char *v)
{
	hid_t t = vlen_str(), sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	const char *s = v ? v : "";
	bool ok = a >= 0 && H5Awrite(a, t, &s) >= 0;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	return ok;
}

static bool attr_str_array(hid_t obj, const char *name,
			   const char *const *v, size_t n)
{
	hsize_t dims[1] = { n };
	hid_t t = vlen_str(), sp = H5Screate_simple(1, dims, NULL);
	hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	bool ok = a >= 0 && H5Awrite(a, t, v) >= 0;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	return ok;
}

/* A fixed-size 1-D column of n rows; ftype is the on-disk type, mtype
 * the memory one. */
static bool column_n(hid_t g, const char *name, size_t n, hid_t ftype,
		     hid_t mtype, const void *data, const char *units,
		     const char *desc)
{
	hsize_t dims[1] = { n };
	hid_t sp = H5Screate_simple(1, dims, NULL);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_obj_track_times(dcpl, 0);
	hid_t ds = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, dcpl,
			      H5P_DEFAULT);
	bool ok = ds >= 0 &&
		  H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0 &&
		  attr_str(ds, "units", units) && attr_str(ds, "description", desc);
	if (ds >= 0)
		H5Dclose(ds);
	H5Pclose(dcpl);
	H5Sclose(sp);
	return ok;
}

static bool column(hid_t g, const char *name, hid_t ftype, hid_t mtype,
		   const void *data, const char *units, const char *desc)
{
	return column_n(g, name, QST_PARAM_COUNT, ftype, mtype, data, units,
			desc);
}

struct analysis_cols {
	const char *param[QST_PARAM_COUNT], *stratum[QST_PARAM_COUNT];
	const char *transform[QST_PARAM_COUNT], *unit[QST_PARAM_COUNT];
	int32_t code[QST_PARAM_COUNT], n[QST_PARAM_COUNT];
	int32_t abnormal[QST_PARAM_COUNT], flags[QST_PARAM_COUNT];
	double raw[QST_PARAM_COUNT], tf[QST_PARAM_COUNT];
	double mean[QST_PARAM_COUNT], sd[QST_PARAM_COUNT], z[QST_PARAM_COUNT];
};

static void fill_cols(struct analysis_cols *c,
		      const struct qst_result res[QST_PARAM_COUNT])
{
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		const struct qst_result *r = &res[i];
		const struct qst_param_info *info = qst_param_info(r->param);
		c->param[i] = qst_param_name(r->param);
		c->code[i] = (int32_t)r->param;
		c->n[i] = r->n;
		c->raw[i] = r->value_raw;
		c->tf[i] = r->value_transformed;
		c->mean[i] = r->ref_mean;
		c->sd[i] = r->ref_sd;
		c->z[i] = r->z;
		c->abnormal[i] = r->abnormal;
		c->flags[i] = (int32_t)r->flags;
		c->stratum[i] = r->stratum;
		c->transform[i] = info ? qst_transform_name(info->transform) : "";
		c->unit[i] = info && info->unit ? info->unit : "";
	}
}

static bool write_columns(hid_t g, const struct analysis_cols *c)
{
	hid_t s = vlen_str();
	hid_t I = H5T_STD_I32LE, F = H5T_IEEE_F64LE;
	hid_t NI = H5T_NATIVE_INT32, NF = H5T_NATIVE_DOUBLE;
	bool ok = column(g, "param", s, s, c->param, "n/a",
			 "DFNS parameter name") &&
		  column(g, "param_code", I, NI, c->code, "1",
			 "parameter code, name = /lookup/test_names[code]") &&
		  column(g, "n", I, NI, c->n, "1", "trials used") &&
		  column(g, "value_raw", F, NF, c->raw, "see unit",
			 "aggregate in raw units (column `unit`)") &&
		  column(g, "value_transformed", F, NF, c->tf, "see transform",
			 "value in the z domain (column `transform`)") &&
		  column(g, "ref_mean", F, NF, c->mean, "see transform",
			 "reference mean (z domain), NaN if none") &&
		  column(g, "ref_sd", F, NF, c->sd, "see transform",
			 "reference SD (z domain), NaN if none") &&
		  column(g, "z", F, NF, c->z, "1",
			 "z-score, positive = gain of function; NaN if not "
			 "z-scored or no reference") &&
		  column(g, "abnormal", I, NI, c->abnormal, "1",
			 "-1 loss, 0 normal, +1 gain (|z| > 1.96)") &&
		  column(g, "flags", I, NI, c->flags, "1",
			 "bitmask, bit i = attribute flag_names[i]") &&
		  column(g, "stratum", s, s, c->stratum, "n/a",
			 "reference stratum used (site/sex/age band)") &&
		  column(g, "transform", s, s, c->transform, "n/a",
			 "transform from raw to z domain") &&
		  column(g, "unit", s, s, c->unit, "n/a",
			 "unit of value_raw");
	H5Tclose(s);
	return ok;
}

static bool attr_int(hid_t obj, const char *name, int v)
{
	int32_t v32 = (int32_t)v;
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT,
			     H5P_DEFAULT);
	bool ok = a >= 0 && H5Awrite(a, H5T_NATIVE_INT32, &v32) >= 0;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	return ok;
}

/* The loss/gain code (qst-domain.md §5.1) and what it could not use. */
static bool write_lg_attrs(hid_t g, const struct qst_result res[QST_PARAM_COUNT])
{
	int loss = 0, gain = 0;
	char code[8], missing[QST_PARAM_COUNT * 4 + 1];
	qst_lg_code(res, &loss, &gain, code);
	qst_lg_missing_names(res, missing, sizeof(missing));
	return attr_str(g, "lg_code", code) && attr_int(g, "lg_loss", loss) &&
	       attr_int(g, "lg_gain", gain) &&
	       attr_str(g, "lg_not_assessed", missing);
}

static bool write_group_attrs(hid_t g, const struct qst_reftable *ref)
{
	size_t n_flag_names;
	const char *const *flag_names = qst_result_flag_names(&n_flag_names);
	static const char *const colnames[] = {
		"param", "param_code", "n", "value_raw", "value_transformed",
		"ref_mean", "ref_sd", "z", "abnormal", "flags", "stratum",
		"transform", "unit",
	};
	return attr_str(g, "description",
			"DFNS parameters, one row per parameter in DFNS order "
			"(all 13; not done = flag not_done)") &&
	       attr_str(g, "ref_table_id", ref ? qst_reftable_id(ref) : "") &&
	       attr_str(g, "ref_table_source",
			ref ? qst_reftable_source(ref) : "") &&
	       attr_str(g, "ref_table_sha256",
			ref ? qst_reftable_sha256(ref) : "") &&
	       attr_str(g, "formula_version", FORMULA_VERSION) &&
	       attr_str_array(g, "flag_names", flag_names, n_flag_names) &&
	       attr_str_array(g, "colnames", colnames,
			      sizeof(colnames) / sizeof(colnames[0]));
}

/* Columns of /analysis/indices, one row per index (qst_paradigms.h). */
struct index_cols {
	const char **name, **paradigm, **unit, **formula, **sign, **source;
	const char **detail;
	char **flag_names;
	int32_t *instance, *variant, *flags;
	double *value;
};

static bool fill_index_cols(struct index_cols *c,
			    const struct qst_index_row *rows, size_t n)
{
	c->name = calloc(n, sizeof(char *));
	c->paradigm = calloc(n, sizeof(char *));
	c->unit = calloc(n, sizeof(char *));
	c->formula = calloc(n, sizeof(char *));
	c->sign = calloc(n, sizeof(char *));
	c->source = calloc(n, sizeof(char *));
	c->flag_names = calloc(n, sizeof(char *));
	c->detail = calloc(n, sizeof(char *));
	c->instance = calloc(n, sizeof(int32_t));
	c->variant = calloc(n, sizeof(int32_t));
	c->flags = calloc(n, sizeof(int32_t));
	c->value = calloc(n, sizeof(double));
	char *flag_buf = calloc(n, 128);
	if (!c->name || !c->paradigm || !c->unit || !c->formula || !c->sign ||
	    !c->source || !c->flag_names || !c->detail || !c->instance ||
	    !c->variant || !c->flags || !c->value || !flag_buf) {
		free(flag_buf);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const struct qst_index_row *r = &rows[i];
		const struct qst_index_info *info = qst_index_info(r->ix.variant);
		c->name[i] = info ? info->name : "";
		c->paradigm[i] = qst_paradigm_name(r->paradigm);
		c->unit[i] = qst_index_row_unit(r);
		c->formula[i] = info ? info->formula : "";
		c->sign[i] = info ? info->sign : "";
		c->source[i] = info ? info->source : "";
		c->flag_names[i] = flag_buf + i * 128;
		qst_index_flags_format(r->ix.flags, c->flag_names[i], 128);
		c->detail[i] = r->detail;
		c->instance[i] = r->instance;
		c->variant[i] = (int32_t)r->ix.variant;
		c->flags[i] = (int32_t)r->ix.flags;
		c->value[i] = r->ix.value;
	}
	return true;
}

static void free_index_cols(struct index_cols *c)
{
	free(c->name);
	free(c->paradigm);
	free(c->unit);
	free(c->formula);
	free(c->sign);
	free(c->source);
	free(c->flag_names ? c->flag_names[0] : NULL);
	free(c->flag_names);
	free(c->detail);
	free(c->instance);
	free(c->variant);
	free(c->flags);
	free(c->value);
}

static bool write_index_columns(hid_t g, const struct index_cols *c,
				size_t n)
{
	hid_t s = vlen_str();
	hid_t I = H5T_STD_I32LE, F = H5T_IEEE_F64LE;
	hid_t NI = H5T_NATIVE_INT32, NF = H5T_NATIVE_DOUBLE;
	bool ok = column_n(g, "name", n, s, s, c->name, "n/a",
			   "index variant name (docs/indices.md)") &&
		  column_n(g, "paradigm", n, s, s, c->paradigm, "n/a",
			   "tsp, cpm or oa") &&
		  column_n(g, "instance", n, I, NI, c->instance, "1",
			   "1-based train (tsp), block (cpm) or pair (oa)") &&
		  column_n(g, "variant", n, I, NI, c->variant, "1",
			   "enum qst_index_variant (append-only code)") &&
		  column_n(g, "value", n, F, NF, c->value, "see unit",
			   "the index; NaN when flags has undefined") &&
		  column_n(g, "unit", n, s, s, c->unit, "n/a",
			   "unit of value") &&
		  column_n(g, "flags", n, I, NI, c->flags, "1",
			   "bitmask, bit i = attribute flag_names[i]") &&
		  column_n(g, "flag_names", n, s, s, c->flag_names, "n/a",
			   "the set flags by name, comma-separated") &&
		  column_n(g, "formula", n, s, s, c->formula, "n/a",
			   "formula of this variant") &&
		  column_n(g, "sign_convention", n, s, s, c->sign, "n/a",
			   "what the sign of value means") &&
		  column_n(g, "source", n, s, s, c->source, "n/a",
			   "section of qst-domain.md") &&
		  column_n(g, "detail", n, s, s, c->detail, "n/a",
			   "which train/block/pair, windows and counts used");
	H5Tclose(s);
	return ok;
}

/* /analysis/indices: the paradigm indices, written only when a paradigm
 * was found so that DFNS-only files keep their layout. */
static bool write_indices(hid_t parent, const struct qst_index_row *rows,
			  size_t n)
{
	static const char *const colnames[] = {
		"name", "paradigm", "instance", "variant", "value", "unit",
		"flags", "flag_names", "formula", "sign_convention", "source",
		"detail",
	};
	const char *bits[QST_IDX_FLAG_BITS];
	for (unsigned b = 0; b < QST_IDX_FLAG_BITS; b++)
		bits[b] = qst_index_flag_name(1u << b);
	struct index_cols c = { 0 };
	hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
	H5Pset_obj_track_times(gcpl, 0);
	hid_t g = H5Gcreate2(parent, "indices", H5P_DEFAULT, gcpl,
			     H5P_DEFAULT);
	H5Pclose(gcpl);
	bool ok = g >= 0 && fill_index_cols(&c, rows, n) &&
		  write_index_columns(g, &c, n) &&
		  attr_str(g, "description",
			   "sensitization indices of the paradigms found in "
			   "/events and /rating (qst-domain.md §6), one row "
			   "per index") &&
		  attr_str_array(g, "flag_names", bits, QST_IDX_FLAG_BITS) &&
		  attr_str_array(g, "colnames", colnames,
				 sizeof(colnames) / sizeof(colnames[0]));
	free_index_cols(&c);
	if (g >= 0)
		H5Gclose(g);
	return ok;
}

struct write_ctx {
	const char *path;       /* the session file, for messages */
	const char *tmp;        /* the copy that is written */
	const struct qst_result *res;
	const struct qst_reftable *ref;
	const struct qst_index_row *rows; /* /analysis/indices, may be 0 */
	size_t n_rows;
};

/* In the writer child: replace /analysis in the copy. */
static int write_child(void *ctx, void **blob, size_t *len, char *errbuf,
		       size_t errlen)
{
	const struct write_ctx *w = ctx;
	const char *path = w->path;
	struct analysis_cols cols;
	hid_t f;

	(void)blob;
	(void)len;
	int rc = open_session_as(w->tmp, path, H5F_ACC_RDWR, &f, errbuf,
				 errlen);
	if (rc)
		return rc;

	/* Replace, never merge: the old group goes first. HDF5 does not
	 * give the freed space back, so each rewrite grows the file by a
	 * few KiB (docs/hdf5-schema.md). */
	errno = 0;
	if (H5Lexists(f, "analysis", H5P_DEFAULT) > 0 &&
	    H5Ldelete(f, "analysis", H5P_DEFAULT) < 0)
		rc = qst_session_err(errbuf, errlen, QST_ERR_HDF5,
			     "%s: cannot delete the old /analysis", path);
	hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
	H5Pset_obj_track_times(gcpl, 0);
	hid_t g = rc ? -1 : H5Gcreate2(f, "analysis", H5P_DEFAULT, gcpl,
				       H5P_DEFAULT);
	H5Pclose(gcpl);
	if (rc == QST_OK) {
		fill_cols(&cols, w->res);
		if (g < 0 || !write_columns(g, &cols) ||
		    !write_group_attrs(g, w->ref) || !write_lg_attrs(g, w->res) ||
		    (w->n_rows > 0 && !write_indices(g, w->rows, w->n_rows)))
			rc = qst_session_err(errbuf, errlen, QST_ERR_IO,
				     "%s: cannot write /analysis: %s", path,
				     errno ? strerror(errno) : "HDF5 error");
	}
	if (g >= 0)
		H5Gclose(g);
	if (H5Fclose(f) < 0 && rc == QST_OK)
		rc = qst_session_err(errbuf, errlen, QST_ERR_IO,
			     "%s: cannot close after writing /analysis", path);
	return rc;
}

/* Copy the bytes of path into a new private file beside it (*tmp, to be
 * freed), keeping path's permission bits. */
static int copy_beside(const char *path, char **tmp, char *errbuf,
		       size_t errlen)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	size_t n = strlen(path) + 32;
	char *t = malloc(n);
	int rc = QST_OK, in = -1, out = -1;
	struct stat st;

	*tmp = NULL;
	if (!dcopy || !bcopy || !t) {
		rc = QST_ERR_NOMEM;
		goto done;
	}
	snprintf(t, n, "%s/.%s.analyze-XXXXXX", dirname(dcopy),
		 basename(bcopy));
	in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0 || fstat(in, &st) < 0) {
		rc = qst_session_err(errbuf, errlen, QST_ERR_IO, "%s: %s", path,
			     strerror(errno));
		goto done;
	}
	out = mkstemp(t);  /* O_EXCL, mode 0600 */
	if (out < 0) {
		rc = qst_session_err(errbuf, errlen, QST_ERR_IO, "%s: cannot create a "
			     "file beside it: %s", path, strerror(errno));
		goto done;
	}
	*tmp = t;
	t = NULL;
	char buf[65536];
	ssize_t r;
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r)
			break;
	if (r != 0 || fchmod(out, st.st_mode & 0777) < 0)
		rc = qst_session_err(errbuf, errlen, QST_ERR_IO, "%s: cannot copy: %s",
			     path, strerror(errno));
done:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && rc == QST_OK)
		rc = qst_session_err(errbuf, errlen, QST_ERR_IO, "%s: cannot copy: %s",
			     path, strerror(errno));
	if (rc && *tmp) {
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	free(dcopy);
	free(bcopy);
	free(t);
	return rc;
}

static int sync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd >= 0 && fsync(fd) == 0 ? QST_OK : QST_ERR_IO;
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Write-then-rename: the new /analysis goes into a copy, which replaces
 * the file only when complete and on disk. A failure or a crash -- also
 * HDF5's, in the child -- leaves the session file as it was.
 */
int qst_session_write_analysis(const char *path,
			       const struct qst_result res[QST_PARAM_COUNT],
			       const struct qst_reftable *ref, char *errbuf,
			       size_t errlen)
{
	return qst_session_write_analysis_indices(path, res, ref, NULL, 0,
						  errbuf, errlen);
}

int qst_session_write_analysis_indices(
	const char *path, const struct qst_result res[QST_PARAM_COUNT],
	const struct qst_reftable *ref, const struct qst_index_row *rows,
	size_t n_rows, char *errbuf, size_t errlen)
{
	void *blob;
	size_t len;
	char *tmp;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!path || !res || (n_rows && !rows))
		return qst_session_err(errbuf, errlen, QST_ERR_ARG,
			       "write_analysis: missing path or results");
	int rc = copy_beside(path, &tmp, errbuf, errlen);
	if (rc)
		return rc;
	struct write_ctx w = { path, tmp, res, ref, rows, n_rows };
	rc = qst_run_isolated(path, write_child, &w, &blob, &len, errbuf,
			      errlen);
	free(blob);
	if (rc == QST_OK && sync_file(tmp) != QST_OK)
		rc = qst_session_err(errbuf, errlen, QST_ERR_IO, "%s: cannot sync the "
			     "new file: %s", path, strerror(errno));
	if (rc == QST_OK && rename(tmp, path) < 0)
		rc = qst_session_err(errbuf, errlen, QST_ERR_IO, "%s: cannot replace "
			     "it: %s", path, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* ------------------------------------------------- reading /analysis */

/* /analysis/NAME as QST_PARAM_COUNT values of mtype (numeric columns). */
static int read_analysis_column(hid_t g, const char *path, const char *name,
				hid_t mtype, void *buf, char *errbuf,
				size_t errlen)
{
	if (H5Lexists(g, name, H5P_DEFAULT) <= 0)
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: missing dataset /analysis/%s (rerun qst "
			       "analyze)", path, name);
	hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
	hid_t sp = H5Dget_space(ds), ft = H5Dget_type(ds);
	bool want_str = H5Tget_class(mtype) == H5T_STRING;
	H5T_class_t cls = H5Tget_class(ft);
	int rc = QST_OK;

	if (H5Sget_simple_extent_ndims(sp) != 1 ||
	    H5Sget_simple_extent_npoints(sp) != QST_PARAM_COUNT)
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: /analysis/%s must have %d rows, one per DFNS "
			     "parameter", path, name, QST_PARAM_COUNT);
	else if (want_str ? (cls != H5T_STRING || H5Tis_variable_str(ft) <= 0)
			  : (cls != H5T_INTEGER && cls != H5T_FLOAT))
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: /analysis/%s is not a %s column", path, name,
			     want_str ? "variable-length string" : "numeric");
	else if (H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: cannot read /analysis/%s", path, name);
	H5Tclose(ft);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

/* A string column copied into each result's stratum (or checked names). */
static int read_analysis_strings(hid_t g, const char *path, const char *name,
				 char *dst[QST_PARAM_COUNT], size_t dstlen,
				 char *errbuf, size_t errlen)
{
	char *strs[QST_PARAM_COUNT] = { 0 };
	hid_t mt = vlen_str();
	int rc = read_analysis_column(g, path, name, mt, strs, errbuf, errlen);
	if (rc == QST_OK) {
		for (int i = 0; i < QST_PARAM_COUNT; i++) {
			snprintf(dst[i], dstlen, "%s", strs[i] ? strs[i] : "");
			qst_text_sanitize(dst[i], false);
		}
		hsize_t dims[1] = { QST_PARAM_COUNT };
		hid_t sp = H5Screate_simple(1, dims, NULL);
		H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, strs);
		H5Sclose(sp);
	}
	H5Tclose(mt);
	return rc;
}

struct analysis_in {
	int32_t code[QST_PARAM_COUNT], n[QST_PARAM_COUNT];
	int32_t abnormal[QST_PARAM_COUNT], flags[QST_PARAM_COUNT];
	double raw[QST_PARAM_COUNT], tf[QST_PARAM_COUNT];
	double mean[QST_PARAM_COUNT], sd[QST_PARAM_COUNT], z[QST_PARAM_COUNT];
	char name[QST_PARAM_COUNT][16];
};

static int read_analysis_rows(hid_t g, const char *path,
			      struct qst_result out[QST_PARAM_COUNT],
			      char *errbuf, size_t errlen)
{
	struct analysis_in in;
	hid_t I = H5T_NATIVE_INT32, F = H5T_NATIVE_DOUBLE;
	const struct { const char *name; hid_t type; void *buf; } cols[] = {
		{ "param_code", I, in.code }, { "n", I, in.n },
		{ "value_raw", F, in.raw }, { "value_transformed", F, in.tf },
		{ "ref_mean", F, in.mean }, { "ref_sd", F, in.sd },
		{ "z", F, in.z }, { "abnormal", I, in.abnormal },
		{ "flags", I, in.flags },
	};
	char *names[QST_PARAM_COUNT], *strata[QST_PARAM_COUNT];
	int rc = QST_OK;

	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]) && !rc; c++)
		rc = read_analysis_column(g, path, cols[c].name, cols[c].type,
					  cols[c].buf, errbuf, errlen);
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		names[i] = in.name[i];
		strata[i] = out[i].stratum;
	}
	if (!rc)
		rc = read_analysis_strings(g, path, "param", names,
					   sizeof(in.name[0]), errbuf, errlen);
	if (!rc)
		rc = read_analysis_strings(g, path, "stratum", strata,
					   sizeof(out[0].stratum), errbuf,
					   errlen);
	for (int i = 0; i < QST_PARAM_COUNT && !rc; i++) {
		const char *want = qst_param_name((enum qst_param)i);
		/* Rows are in DFNS order by schema; refuse anything else
		 * rather than silently mislabel a parameter. */
		if (in.code[i] != i || strcmp(in.name[i], want) != 0)
			return qst_session_err(errbuf, errlen, QST_ERR_DATA,
				       "%s: /analysis row %d is '%s' (code %d), "
				       "expected %s", path, i, in.name[i],
				       (int)in.code[i], want);
		if (in.n[i] < 0 || in.abnormal[i] < -1 || in.abnormal[i] > 1)
			return qst_session_err(errbuf, errlen, QST_ERR_DATA,
				       "%s: /analysis row %d (%s) has n %d and "
				       "abnormal %d; expected n >= 0 and "
				       "abnormal -1, 0 or +1", path, i, want,
				       (int)in.n[i], (int)in.abnormal[i]);
		struct qst_result *r = &out[i];
		r->param = (enum qst_param)i;
		r->n = in.n[i];
		r->value_raw = in.raw[i];
		r->value_transformed = in.tf[i];
		r->ref_mean = in.mean[i];
		r->ref_sd = in.sd[i];
		r->z = in.z[i];
		r->abnormal = in.abnormal[i];
		r->flags = (unsigned)in.flags[i];
	}
	return rc;
}

/* Metadata for the report header; a missing attribute is left empty. */
static void read_analysis_meta(hid_t f, hid_t g, struct qst_analysis_meta *m)
{
	char sex[8] = "";

	memset(m, 0, sizeof(*m));
	m->subject.age_years = NAN;
	hid_t md = H5Lexists(f, "metadata", H5P_DEFAULT) > 0
			   ? H5Gopen2(f, "metadata", H5P_DEFAULT) : -1;
	if (md >= 0) {
		read_attr_str(md, "subject_id", m->subject_id,
			      sizeof(m->subject_id));
		read_attr_str(md, "sex", sex, sizeof(sex));
		read_attr_double(md, "age_years", &m->subject.age_years);
		read_attr_str(md, "site", m->subject.site,
			      sizeof(m->subject.site));
		read_attr_str(md, "side", m->side, sizeof(m->side));
		read_attr_str(md, "protocol_name", m->protocol_name,
			      sizeof(m->protocol_name));
		read_attr_str(md, "session_start_utc", m->session_start_utc,
			      sizeof(m->session_start_utc));
		H5Gclose(md);
	}
	m->subject.sex = sex[0];
	read_attr_str(g, "ref_table_id", m->ref_table_id,
		      sizeof(m->ref_table_id));
	read_attr_str(g, "ref_table_sha256", m->ref_table_sha256,
		      sizeof(m->ref_table_sha256));
	read_attr_str(g, "formula_version", m->formula_version,
		      sizeof(m->formula_version));
}

struct analysis_blob {
	struct qst_result res[QST_PARAM_COUNT];
	struct qst_analysis_meta meta;
};

static int load_analysis_direct(const char *path,
				struct qst_result out[QST_PARAM_COUNT],
				struct qst_analysis_meta *meta, char *errbuf,
				size_t errlen);

static int load_analysis_child(void *ctx, void **blob, size_t *len,
			       char *errbuf, size_t errlen)
{
	struct analysis_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return QST_ERR_NOMEM;
	int rc = load_analysis_direct(ctx, b->res, &b->meta, errbuf, errlen);
	*blob = b;
	*len = sizeof(*b);
	return rc;
}

int qst_session_load_analysis(const char *path,
			      struct qst_result out[QST_PARAM_COUNT],
			      struct qst_analysis_meta *meta, char *errbuf,
			      size_t errlen)
{
	void *blob;
	size_t len;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!path || !out)
		return qst_session_err(errbuf, errlen, QST_ERR_ARG,
			       "load_analysis: missing path or result");
	memset(out, 0, sizeof(*out) * QST_PARAM_COUNT);
	int rc = qst_run_isolated(path, load_analysis_child, (void *)path,
				  &blob, &len, errbuf, errlen);
	if (rc == QST_OK && len != sizeof(struct analysis_blob))
		rc = qst_session_err(errbuf, errlen, QST_ERR_DATA,
			     "%s: the reader sent a short answer", path);
	if (rc == QST_OK) {
		const struct analysis_blob *b = blob;
		memcpy(out, b->res, sizeof(b->res));
		if (meta)
			*meta = b->meta;
	}
	free(blob);
	return rc;
}

static int load_analysis_direct(const char *path,
				struct qst_result out[QST_PARAM_COUNT],
				struct qst_analysis_meta *meta, char *errbuf,
				size_t errlen)
{
	hid_t f;
	int rc = open_session(path, H5F_ACC_RDONLY, &f, errbuf, errlen);
	if (rc)
		return rc;
	if (H5Lexists(f, "analysis", H5P_DEFAULT) <= 0) {
		H5Fclose(f);
		return qst_session_err(errbuf, errlen, QST_ERR_NOTFOUND,
			       "%s: no /analysis in this file; run `qst "
			       "analyze %s` first", path, path);
	}
	hid_t g = H5Gopen2(f, "analysis", H5P_DEFAULT);
	if (g < 0) {
		H5Fclose(f);
		return qst_session_err(errbuf, errlen, QST_ERR_DATA,
			       "%s: /analysis is not a group", path);
	}
	rc = read_analysis_rows(g, path, out, errbuf, errlen);
	if (rc == QST_OK && meta)
		read_analysis_meta(f, g, meta);
	H5Gclose(g);
	H5Fclose(f);
	return rc;
}
