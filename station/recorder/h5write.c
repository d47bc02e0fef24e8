/*
 * The HDF5 side of the recorder: file layout, metadata, lookup tables and
 * appendable 1-D column tables. Live recording and `qst recover` both
 * write through this file only. Layout: docs/hdf5-schema.md.
 *
 * Conventions (landscape.md §3.2–§3.6): default (earliest) format bounds
 * so every reader opens the file and a crashed file stays readable; no
 * SWMR; struct-of-arrays columns, chunked and extendible; strings as vlen
 * UTF-8 (attributes read as str in h5py); int32 codes plus name lookups;
 * a `units` and a `description` attribute on every column.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qst_analysis.h"
#include "qst_methods.h"
#include "rec_internal.h"

#define LOG_PREFIX "recorder: "

#ifndef QST_VERSION
#define QST_VERSION "unknown"
#endif

/* ------------------------------------------------------------- tables */

#define COL(n, k, type, field, u, d) \
	{ n, k, offsetof(type, field), u, d, NULL }
#define COLL(n, k, type, field, u, d, l) \
	{ n, k, offsetof(type, field), u, d, l }

static const struct qst_col_spec device_cols[] = {
	COL("role", QST_COL_STRARR, struct qst_device_record, role, "n/a",
	    "what the device does in the station: thermal, response, ..."),
	COL("driver", QST_COL_STRARR, struct qst_device_record, driver, "n/a",
	    "qst driver name"),
	COL("model", QST_COL_STRARR, struct qst_device_record, model, "n/a",
	    "model as reported by the device"),
	COL("serial", QST_COL_STRARR, struct qst_device_record, serial, "n/a",
	    "serial number as reported by the device"),
	COL("firmware", QST_COL_STRARR, struct qst_device_record, firmware,
	    "n/a", "firmware version as reported by the device"),
	COL("transport", QST_COL_STRARR, struct qst_device_record, transport,
	    "n/a", "how the device was reached (port, USB path, sim)"),
};

#define PS struct qst_pressure_sample
static const struct qst_col_spec pressure_cols[] = {
	COL("t_ns", QST_COL_I64, PS, t_ns, "ns",
	    "reading time on the session clock, t = 0 at session start"),
	COL("t_s", QST_COL_NS_TO_S, PS, t_ns, "seconds",
	    "t_ns in seconds (float64), for readers without int64"),
	COL("force_n", QST_COL_F64, PS, force_n, "N",
	    "force on the algometer probe, as the gauge reports it, in N"),
	COL("kpa", QST_COL_F64, PS, kpa, "kPa",
	    "force over the probe area (1 N/cm2 = 10 kPa, qst-domain.md 2.9)"),
};
#undef PS

#define RS struct qst_rating_sample
static const struct qst_col_spec rating_cols[] = {
	COL("t_ns", QST_COL_I64, RS, t_ns, "ns",
	    "arrival time on the session clock, t = 0 at session start"),
	COL("t_s", QST_COL_NS_TO_S, RS, t_ns, "seconds",
	    "t_ns in seconds (float64), for readers without int64"),
	COL("value", QST_COL_F64, RS, value, "0-100",
	    "slider position over its configured full scale, as sampled"),
	COL("raw", QST_COL_I32, RS, raw, "1",
	    "the number the slider sent (its range is a documented gap)"),
};
#undef RS

#define TS struct qst_temp_sample
static const struct qst_col_spec temperature_cols[] = {
	COL("t_ns", QST_COL_I64, TS, t_ns, "ns",
	    "sample time on the session clock, t = 0 at session start"),
	COL("t_s", QST_COL_NS_TO_S, TS, t_ns, "seconds",
	    "t_ns in seconds (float64), for readers without int64"),
	COL("commanded_c", QST_COL_F64, TS, commanded_c, "degC",
	    "thermode setpoint"),
	COL("measured_c", QST_COL_F64, TS, measured_c, "degC",
	    "measured thermode temperature, mean of the zones"),
	COL("neutral_c", QST_COL_F64, TS, neutral_c, "degC",
	    "neutral (baseline) temperature in force"),
	COL("zone1_c", QST_COL_F64, TS, zone_c[0], "degC", "zone 1 measured"),
	COL("zone2_c", QST_COL_F64, TS, zone_c[1], "degC", "zone 2 measured"),
	COL("zone3_c", QST_COL_F64, TS, zone_c[2], "degC", "zone 3 measured"),
	COL("zone4_c", QST_COL_F64, TS, zone_c[3], "degC", "zone 4 measured"),
	COL("zone5_c", QST_COL_F64, TS, zone_c[4], "degC", "zone 5 measured"),
};
#undef TS

#define EV struct qst_event_record
static const struct qst_col_spec event_cols[] = {
	COL("t_ns", QST_COL_I64, EV, t_ns, "ns",
	    "event time on the session clock, t = 0 at session start"),
	COL("t_s", QST_COL_NS_TO_S, EV, t_ns, "seconds", "t_ns in seconds"),
	COLL("code", QST_COL_I32, EV, code, "1",
	     "event code, name = /lookup/event_code_names[code]",
	     "/lookup/event_code_names"),
	COLL("source", QST_COL_I32, EV, source, "1",
	     "event source, name = /lookup/event_source_names[source]",
	     "/lookup/event_source_names"),
	COL("trial", QST_COL_I32, EV, trial, "1",
	    "trial_id the event belongs to, -1 if none"),
	COL("value", QST_COL_F64, EV, value, "see code",
	    "first value, meaning per code (docs/hdf5-schema.md)"),
	COL("value2", QST_COL_F64, EV, value2, "see code",
	    "second value, meaning per code, NaN if unused"),
	COL("message", QST_COL_STRPTR, EV, message, "n/a",
	    "free text (UTF-8), empty if none"),
};
#undef EV

#define LEVEL_UNITS "per test: /lookup/trial_level_units[test]"
#define RATE_UNITS "per test: /lookup/trial_rate_units[test]"
#define VALUE_UNITS "per test: /lookup/trial_value_units[test]"
#define COMMANDED_UNITS "per test: /lookup/trial_commanded_units[test]"
#define TR struct qst_trial_record
static const struct qst_col_spec trial_cols[] = {
	COL("trial_id", QST_COL_I32, TR, trial_id, "1",
	    "0-based trial number, session-wide"),
	COLL("test", QST_COL_I32, TR, test, "1",
	     "DFNS parameter code, name = /lookup/test_names[test]",
	     "/lookup/test_names"),
	COL("repetition", QST_COL_I32, TR, repetition, "1",
	    "1-based repetition within the test"),
	COL("direction", QST_COL_I32, TR, direction, "1",
	    "+1 warming / ascending, -1 cooling / descending"),
	COL("t_start_ns", QST_COL_I64, TR, t_start_ns, "ns",
	    "trial start (inter-stimulus interval begins)"),
	COL("t_stop_ns", QST_COL_I64, TR, t_stop_ns, "ns",
	    "back at baseline"),
	COL("t_onset_ns", QST_COL_I64, TR, t_onset_ns, "ns", "ramp onset"),
	COL("t_response_ns", QST_COL_I64, TR, t_response_ns, "ns",
	    "button press, -1 if none (cut-off)"),
	COL("t_start_s", QST_COL_NS_TO_S, TR, t_start_ns, "seconds",
	    "t_start_ns in seconds"),
	COL("t_stop_s", QST_COL_NS_TO_S, TR, t_stop_ns, "seconds",
	    "t_stop_ns in seconds"),
	COL("t_onset_s", QST_COL_NS_TO_S, TR, t_onset_ns, "seconds",
	    "t_onset_ns in seconds"),
	COL("t_response_s", QST_COL_NS_TO_S_OPT, TR, t_response_ns, "seconds",
	    "t_response_ns in seconds, NaN if no response"),
	/* Every method shares the row; units follow the test (the thermal
	 * column names came first). */
	COL("baseline_c", QST_COL_F64, TR, baseline_c, LEVEL_UNITS,
	    "level between stimuli: baseline temperature, 0 kPa for PPT"),
	COL("rate_c_s", QST_COL_F64, TR, rate_c_s, RATE_UNITS,
	    "ramp rate (PPT: the rate the operator achieved)"),
	COL("return_rate_c_s", QST_COL_F64, TR, return_rate_c_s, RATE_UNITS,
	    "return rate to baseline"),
	COL("cutoff_c", QST_COL_F64, TR, cutoff_c, LEVEL_UNITS,
	    "cut-off of the ramp"),
	COL("value_measured", QST_COL_F64, TR, value_measured, VALUE_UNITS,
	    "the answer the analysis uses: temperature or pressure at the "
	    "response (or cut-off), threshold force, rating, fork reading"),
	COL("value_commanded", QST_COL_F64, TR, value_commanded,
	    COMMANDED_UNITS, "the stimulus given: setpoint at the response, "
	    "or the filament/pinprick force"),
	COL("latency_s", QST_COL_F64, TR, latency_s, "seconds",
	    "response minus onset (reaction time inclusive)"),
	COL("device_rt_s", QST_COL_F64, TR, device_rt_s, "seconds",
	    "response device's own timer, NaN if none"),
	COL("key", QST_COL_I32, TR, key, "1", "response key, -1 if none"),
	COLL("quality", QST_COL_I32, TR, quality, "1",
	     "TSL quality label, name = /lookup/quality_names[quality]",
	     "/lookup/quality_names"),
	COLL("flags", QST_COL_I32, TR, flags, "1",
	     "bitmask, bit i = /lookup/trial_flag_names[i]",
	     "/lookup/trial_flag_names"),
};
#undef TR
#undef LEVEL_UNITS
#undef RATE_UNITS
#undef VALUE_UNITS
#undef COMMANDED_UNITS

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const struct qst_table_spec devices_spec = {
	"/devices", "devices used in the session, one row per device",
	sizeof(struct qst_device_record), 16, false,
	device_cols, NCOLS(device_cols)
};
static const struct qst_table_spec pressure_spec = {
	"/pressure", "pressure algometer stream, one row per reading",
	sizeof(struct qst_pressure_sample), 4096, true,
	pressure_cols, NCOLS(pressure_cols)
};

static const struct qst_table_spec rating_spec = {
	"/rating", "rating slider stream, one row per sample as it arrived",
	sizeof(struct qst_rating_sample), 4096, true,
	rating_cols, NCOLS(rating_cols)
};

/* 4096 samples per chunk: ~41 s at 100 Hz (landscape.md §3.4). */
static const struct qst_table_spec temperature_spec = {
	"/temperature", "thermode temperature stream, one row per sample",
	sizeof(struct qst_temp_sample), 4096, true,
	temperature_cols, NCOLS(temperature_cols)
};
static const struct qst_table_spec events_spec = {
	"/events", "session events, one row per event, in time order",
	sizeof(struct qst_event_record), 512, false,
	event_cols, NCOLS(event_cols)
};
static const struct qst_table_spec trials_spec = {
	"/trials", "completed trials, one row per trial",
	sizeof(struct qst_trial_record), 256, false,
	trial_cols, NCOLS(trial_cols)
};

/* Bit i of the trial `flags` column (qst_analysis.h QST_TRIAL_*). */
static const char *const trial_flag_names[] = {
	"cutoff_reached", "response_suspect", "aborted", "no_readback",
	"out_of_range", "adaptive", "catch",
};
_Static_assert(sizeof(trial_flag_names) / sizeof(trial_flag_names[0]) ==
		       QST_TRIAL_FLAG_BITS,
	       "every trial flag bit needs its name in the file");

/* ----------------------------------------------------------- helpers */

void qst_h5_no_atexit(void)
{
	H5dont_atexit();
}

void qst_h5_quiet(void)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

hid_t qst_h5_vlen_str_type(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0)
		return t;
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	return t;
}

/* Objects carry no modification times, so recovering twice gives the
 * same bytes. */
hid_t qst_h5_create_group(hid_t loc, const char *name)
{
	hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
	H5Pset_obj_track_times(gcpl, 0);
	hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
	H5Pclose(gcpl);
	if (g < 0)
		qst_err("cannot create group %s", name);
	return g;
}

static int attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
		      hid_t space, const void *buf)
{
	if (H5Aexists(obj, name) > 0)
		H5Adelete(obj, name);
	hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0) {
		qst_err("cannot create attribute %s", name);
		return QST_ERR_HDF5;
	}
	herr_t rc = H5Awrite(a, mtype, buf);
	H5Aclose(a);
	if (rc < 0) {
		qst_err("cannot write attribute %s", name);
		return QST_ERR_HDF5;
	}
	return QST_OK;
}

static int attr_scalar(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
		       const void *buf)
{
	hid_t space = H5Screate(H5S_SCALAR);
	int rc = attr_write(obj, name, ftype, mtype, space, buf);
	H5Sclose(space);
	return rc;
}

int qst_h5_attr_str(hid_t obj, const char *name, const char *value)
{
	hid_t t = qst_h5_vlen_str_type();
	const char *v = value ? value : "";
	int rc = attr_scalar(obj, name, t, t, &v);
	H5Tclose(t);
	return rc;
}

int qst_h5_attr_i32(hid_t obj, const char *name, int32_t value)
{
	return attr_scalar(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

int qst_h5_attr_i64(hid_t obj, const char *name, int64_t value)
{
	return attr_scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

int qst_h5_attr_f64(hid_t obj, const char *name, double value)
{
	return attr_scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
			   &value);
}

int qst_h5_attr_str_array(hid_t obj, const char *name,
			  const char *const *values, size_t n)
{
	hsize_t dims[1] = { n };
	hid_t space = H5Screate_simple(1, dims, NULL);
	hid_t t = qst_h5_vlen_str_type();
	int rc = attr_write(obj, name, t, t, space, values);
	H5Tclose(t);
	H5Sclose(space);
	return rc;
}

int qst_h5_dataset_1d(hid_t loc, const char *name, hid_t type,
		      const void *data, size_t n, const char *units,
		      const char *description)
{
	hsize_t dims[1] = { n };
	hid_t space = H5Screate_simple(1, dims, NULL);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_obj_track_times(dcpl, 0);
	hid_t ftype = H5Tcopy(type);
	/* Little-endian on disk whatever the host, like the table columns. */
	if (H5Tget_class(type) == H5T_INTEGER || H5Tget_class(type) == H5T_FLOAT)
		H5Tset_order(ftype, H5T_ORDER_LE);
	hid_t ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl,
			      H5P_DEFAULT);
	int rc = QST_OK;
	if (ds < 0 || (n > 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL,
					 H5P_DEFAULT, data) < 0)) {
		qst_err("cannot write dataset %s", name);
		rc = QST_ERR_HDF5;
	}
	if (rc == QST_OK && units)
		rc = qst_h5_attr_str(ds, "units", units);
	if (rc == QST_OK && description)
		rc = qst_h5_attr_str(ds, "description", description);
	if (ds >= 0)
		H5Dclose(ds);
	H5Tclose(ftype);
	H5Pclose(dcpl);
	H5Sclose(space);
	return rc;
}

int qst_h5_dataset_str_array(hid_t loc, const char *name,
			     const char *const *values, size_t n,
			     const char *description)
{
	hid_t t = qst_h5_vlen_str_type();
	int rc = qst_h5_dataset_1d(loc, name, t, values, n, "n/a",
				   description);
	H5Tclose(t);
	return rc;
}

int qst_file_create_private(const char *path, bool overwrite)
{
	int fd = qst_create_private(path, overwrite, 0);
	if (fd == QST_ERR_EXISTS)
		qst_err("%s exists; refusing to overwrite it", path);
	if (fd < 0)
		return fd;
	close(fd);
	return QST_OK;
}

/* ---------------------------------------------------------- metadata */

static int write_meta_attrs(hid_t g, const struct qst_session_meta *m)
{
	char sex[2] = { m->sex, '\0' };
	char start[48], seed[24];
	int rc = QST_OK;

	qst_format_utc(m->origin_utc_ns, start, sizeof(start));
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)m->seed);
	rc |= qst_h5_attr_str(g, "subject_id", m->subject_id);
	rc |= qst_h5_attr_str(g, "sex", sex);
	rc |= qst_h5_attr_i32(g, "age_years", m->age_years);
	rc |= qst_h5_attr_str(g, "site", m->site);
	rc |= qst_h5_attr_str(g, "side", m->side);
	rc |= qst_h5_attr_str(g, "operator", m->operator_name);
	rc |= qst_h5_attr_str(g, "protocol_name", m->protocol_name);
	rc |= qst_h5_attr_str(g, "protocol_version", m->protocol_version);
	rc |= qst_h5_attr_str(g, "protocol_path", m->protocol_path);
	rc |= qst_h5_attr_str(g, "software_version", m->software_version);
	rc |= qst_h5_attr_str(g, "station", m->station);
	rc |= qst_h5_attr_str(g, "clock_source", m->clock_source);
	rc |= qst_h5_attr_str(g, "session_start_utc", start);
	rc |= qst_h5_attr_i64(g, "session_start_utc_ns", m->origin_utc_ns);
	rc |= qst_h5_attr_str(g, "seed", seed);
	rc |= qst_h5_attr_f64(g, "thermode_area_cm2", m->thermode_area_cm2);
	return rc ? QST_ERR_HDF5 : QST_OK;
}

/* The script as one string dataset; its digest is computed here, from
 * the very bytes stored, so a reader can always verify it. */
static int write_protocol(hid_t g, const struct qst_session_meta *m)
{
	size_t len = m->protocol_text ? m->protocol_len : 0;
	char *text = malloc(len + 1);
	char digest[65];

	if (!text)
		return QST_ERR_NOMEM;
	if (len)
		memcpy(text, m->protocol_text, len);
	text[len] = '\0';
	if (strlen(text) != len)
		qst_warn("protocol text holds a NUL byte; stored up to it");
	qst_sha256_hex(text, strlen(text), digest);
	if (m->protocol_sha256[0] && strcmp(digest, m->protocol_sha256) != 0)
		qst_warn("protocol_sha256 in the metadata (%s) differs from the "
			 "text's digest (%s); storing the text's", m->protocol_sha256,
			 digest);

	hid_t t = qst_h5_vlen_str_type();
	hid_t space = H5Screate(H5S_SCALAR);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_obj_track_times(dcpl, 0);
	hid_t ds = H5Dcreate2(g, "protocol_text", t, space, H5P_DEFAULT, dcpl,
			      H5P_DEFAULT);
	const char *p = text;
	int rc = QST_OK;
	if (ds < 0 || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) < 0) {
		qst_err("cannot write the protocol text");
		rc = QST_ERR_HDF5;
	}
	if (rc == QST_OK)
		rc = qst_h5_attr_str(ds, "sha256", digest);
	if (rc == QST_OK)
		rc = qst_h5_attr_str(ds, "description",
				     "the protocol script as run (UTF-8)");
	if (rc == QST_OK)
		rc = qst_h5_attr_str(g, "protocol_sha256", digest);
	if (ds >= 0)
		H5Dclose(ds);
	H5Pclose(dcpl);
	H5Sclose(space);
	H5Tclose(t);
	free(text);
	return rc;
}

static int write_simulation(hid_t file, const struct qst_session_meta *m)
{
	if (m->n_sim_truth <= 0 && !m->participant_profile[0])
		return QST_OK;
	hid_t g = qst_h5_create_group(file, "simulation");
	if (g < 0)
		return QST_ERR_HDF5;
	int rc = qst_h5_attr_str(g, "participant_profile",
				 m->participant_profile);
	for (int i = 0; rc == QST_OK && i < m->n_sim_truth && i < QST_SIM_TRUTH_MAX; i++) {
		const char *key = m->sim_truth[i].key;
		if (!key[0] || strcmp(key, "participant_profile") == 0 ||
		    H5Aexists(g, key) > 0) {
			qst_warn("sim_truth[%d]: empty, reserved or duplicate key "
				 "'%s' skipped", i, key);
			continue;
		}
		rc = qst_h5_attr_f64(g, key, m->sim_truth[i].value);
	}
	H5Gclose(g);
	return rc;
}

/* Units of the shared /trials columns, one entry per test code. */
static int write_trial_units(hid_t g)
{
	const char *value[QST_PARAM_COUNT], *commanded[QST_PARAM_COUNT];
	const char *level[QST_PARAM_COUNT], *rate[QST_PARAM_COUNT];
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		const struct qst_param_info *info = qst_param_info(i);
		value[i] = info->trial_units.value;
		commanded[i] = info->trial_units.commanded;
		level[i] = info->trial_units.level;
		rate[i] = info->trial_units.rate;
	}
	int rc = qst_h5_dataset_str_array(g, "trial_value_units", value,
		QST_PARAM_COUNT, "/trials/value_measured units by test");
	rc |= qst_h5_dataset_str_array(g, "trial_commanded_units", commanded,
		QST_PARAM_COUNT, "/trials/value_commanded units by test");
	rc |= qst_h5_dataset_str_array(g, "trial_level_units", level,
		QST_PARAM_COUNT, "/trials/baseline_c and cutoff_c units by test");
	rc |= qst_h5_dataset_str_array(g, "trial_rate_units", rate,
		QST_PARAM_COUNT, "/trials/rate_c_s and return_rate_c_s units by test");
	return rc;
}

static int write_lookups(hid_t file)
{
	const char *codes[QST_EVC_COUNT], *sources[QST_EVS_COUNT];
	const char *tests[QST_PARAM_COUNT], *quality[QST_QUALITY_COUNT];
	int rc = QST_OK;

	for (int i = 0; i < QST_EVC_COUNT; i++)
		codes[i] = qst_event_code_name(i);
	for (int i = 0; i < QST_EVS_COUNT; i++)
		sources[i] = qst_event_source_name(i);
	for (int i = 0; i < QST_PARAM_COUNT; i++)
		tests[i] = qst_param_name((enum qst_param)i);
	for (int i = 0; i < QST_QUALITY_COUNT; i++)
		quality[i] = qst_quality_name(i);

	hid_t g = qst_h5_create_group(file, "lookup");
	if (g < 0)
		return QST_ERR_HDF5;
	rc |= qst_h5_attr_str(g, "description",
			      "name tables: NAME[i] is the name of code i "
			      "(bit i for *_flag_names)");
	rc |= qst_h5_dataset_str_array(g, "event_code_names", codes,
				       QST_EVC_COUNT, "/events/code names");
	rc |= qst_h5_dataset_str_array(g, "event_source_names", sources,
				       QST_EVS_COUNT, "/events/source names");
	rc |= qst_h5_dataset_str_array(g, "test_names", tests, QST_PARAM_COUNT,
				       "/trials/test names (DFNS parameters)");
	rc |= qst_h5_dataset_str_array(g, "quality_names", quality,
				       QST_QUALITY_COUNT,
				       "/trials/quality names");
	rc |= qst_h5_dataset_str_array(g, "trial_flag_names", trial_flag_names,
				       NCOLS(trial_flag_names),
				       "/trials/flags: name of bit i");
	const char *stimuli[QST_STIM_COUNT];
	for (int i = 0; i < QST_STIM_COUNT; i++)
		stimuli[i] = qst_stimulus_name(i);
	rc |= qst_h5_dataset_str_array(g, "stimulus_names", stimuli,
				       QST_STIM_COUNT,
				       "/events value2 of repeat and operator_note");
	rc |= write_trial_units(g);
	H5Gclose(g);
	return rc ? QST_ERR_HDF5 : QST_OK;
}

/* ------------------------------------------------------------ tables */

static hid_t col_file_type(enum qst_col_kind k)
{
	switch (k) {
	case QST_COL_I32: return H5T_STD_I32LE;
	case QST_COL_I64: return H5T_STD_I64LE;
	case QST_COL_STRPTR:
	case QST_COL_STRARR: return -1; /* vlen string, made per call */
	default: return H5T_IEEE_F64LE;
	}
}

static hid_t col_mem_type(enum qst_col_kind k)
{
	switch (k) {
	case QST_COL_I32: return H5T_NATIVE_INT32;
	case QST_COL_I64: return H5T_NATIVE_INT64;
	case QST_COL_STRPTR:
	case QST_COL_STRARR: return -1;
	default: return H5T_NATIVE_DOUBLE;
	}
}

static bool col_is_string(enum qst_col_kind k)
{
	return k == QST_COL_STRPTR || k == QST_COL_STRARR;
}

static hid_t create_column(hid_t g, const struct qst_table_spec *ts,
			   const struct qst_col_spec *c)
{
	hsize_t dims[1] = { 0 }, maxdims[1] = { H5S_UNLIMITED };
	hsize_t chunk[1] = { ts->chunk };
	hid_t space = H5Screate_simple(1, dims, maxdims);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	hid_t str = col_is_string(c->kind) ? qst_h5_vlen_str_type() : -1;
	hid_t ftype = str >= 0 ? str : col_file_type(c->kind);

	H5Pset_chunk(dcpl, 1, chunk);
	H5Pset_obj_track_times(dcpl, 0);
	if (ts->compress && !col_is_string(c->kind) &&
	    H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
		H5Pset_shuffle(dcpl);
		H5Pset_deflate(dcpl, 4);
	}
	hid_t ds = H5Dcreate2(g, c->name, ftype, space, H5P_DEFAULT, dcpl,
			      H5P_DEFAULT);
	if (str >= 0)
		H5Tclose(str);
	H5Pclose(dcpl);
	H5Sclose(space);
	if (ds < 0) {
		qst_err("cannot create %s/%s", ts->group, c->name);
		return ds;
	}
	int rc = qst_h5_attr_str(ds, "units", c->units);
	rc |= qst_h5_attr_str(ds, "description", c->description);
	if (c->lookup)
		rc |= qst_h5_attr_str(ds, "lookup", c->lookup);
	if (rc) {
		H5Dclose(ds);
		return -1;
	}
	return ds;
}

static int create_table(hid_t file, struct qst_h5_table *t,
			const struct qst_table_spec *ts)
{
	const char *names[32];

	t->spec = ts;
	t->rows = 0;
	t->ds = calloc(ts->ncols, sizeof(*t->ds));
	if (!t->ds)
		return QST_ERR_NOMEM;
	for (size_t i = 0; i < ts->ncols; i++)
		t->ds[i] = -1;
	hid_t g = qst_h5_create_group(file, ts->group);
	if (g < 0)
		return QST_ERR_HDF5;
	int rc = QST_OK;
	for (size_t i = 0; i < ts->ncols && rc == QST_OK; i++) {
		t->ds[i] = create_column(g, ts, &ts->cols[i]);
		if (t->ds[i] < 0)
			rc = QST_ERR_HDF5;
		if (i < 32)
			names[i] = ts->cols[i].name;
	}
	/* colnames as in an NWB DynamicTable: the column order to read. */
	if (rc == QST_OK)
		rc = qst_h5_attr_str_array(g, "colnames", names, ts->ncols);
	if (rc == QST_OK)
		rc = qst_h5_attr_str(g, "description", ts->description);
	H5Gclose(g);
	return rc;
}

static void close_table(struct qst_h5_table *t)
{
	if (!t->ds)
		return;
	for (size_t i = 0; i < t->spec->ncols; i++)
		if (t->ds[i] >= 0)
			H5Dclose(t->ds[i]);
	free(t->ds);
	t->ds = NULL;
}

/* One column's values for n rows into buf (8 bytes per element). */
static void gather_column(const struct qst_col_spec *c, const void *rows,
			  size_t row_size, size_t n, void *buf)
{
	for (size_t i = 0; i < n; i++) {
		const char *row = (const char *)rows + i * row_size + c->offset;
		int64_t ns;
		switch (c->kind) {
		case QST_COL_I32:
			memcpy((int32_t *)buf + i, row, sizeof(int32_t));
			break;
		case QST_COL_I64:
			memcpy((int64_t *)buf + i, row, sizeof(int64_t));
			break;
		case QST_COL_F64:
			memcpy((double *)buf + i, row, sizeof(double));
			break;
		case QST_COL_NS_TO_S:
		case QST_COL_NS_TO_S_OPT:
			memcpy(&ns, row, sizeof(ns));
			((double *)buf)[i] =
				(c->kind == QST_COL_NS_TO_S_OPT && ns < 0)
					? NAN : qst_ns_to_s(ns);
			break;
		case QST_COL_STRPTR: {
			const char *s;
			memcpy(&s, row, sizeof(s));
			((const char **)buf)[i] = s ? s : "";
			break;
		}
		case QST_COL_STRARR:
			((const char **)buf)[i] = row;
			break;
		}
	}
}

/*
 * A transfer list whose conversion buffer fits N string rows: HDF5's
 * default is 1 MiB, cleared at every write that converts (vlen strings),
 * which made a third of the CPU time of `qst recover` (perf). Numeric
 * columns need no conversion and keep the default.
 */
static hid_t string_dxpl(size_t n)
{
	hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
	size_t size = n * 64 < 4096 ? 4096 : n * 64;
	if (dxpl >= 0 && H5Pset_buffer(dxpl, size, NULL, NULL) < 0) {
		H5Pclose(dxpl);
		dxpl = H5P_DEFAULT;
	}
	return dxpl < 0 ? H5P_DEFAULT : dxpl;
}

static int append_column(hid_t ds, const struct qst_col_spec *c, hsize_t at,
			 const void *buf, size_t n)
{
	hsize_t newsize[1] = { at + n }, start[1] = { at }, count[1] = { n };
	hid_t str = col_is_string(c->kind) ? qst_h5_vlen_str_type() : -1;
	hid_t mtype = str >= 0 ? str : col_mem_type(c->kind);
	hid_t dxpl = str >= 0 ? string_dxpl(n) : H5P_DEFAULT;
	int rc = QST_OK;

	if (H5Dset_extent(ds, newsize) < 0) {
		rc = QST_ERR_IO;
	} else {
		hid_t fspace = H5Dget_space(ds);
		hid_t mspace = H5Screate_simple(1, count, NULL);
		if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL,
					count, NULL) < 0 ||
		    H5Dwrite(ds, mtype, mspace, fspace, dxpl, buf) < 0)
			rc = QST_ERR_IO;
		H5Sclose(mspace);
		H5Sclose(fspace);
	}
	if (dxpl != H5P_DEFAULT)
		H5Pclose(dxpl);
	if (str >= 0)
		H5Tclose(str);
	return rc;
}

int qst_h5w_append(struct qst_h5w *w, struct qst_h5_table *t,
		   const void *rows, size_t n)
{
	const struct qst_table_spec *ts = t->spec;
	if (n == 0)
		return QST_OK;
	void *buf = malloc(n * 8);
	if (!buf)
		return QST_ERR_NOMEM;
	int rc = QST_OK;
	errno = 0;
	for (size_t i = 0; i < ts->ncols && rc == QST_OK; i++) {
		gather_column(&ts->cols[i], rows, ts->row_size, n, buf);
		rc = append_column(t->ds[i], &ts->cols[i], t->rows, buf, n);
		if (rc)
			qst_err("%s: appending %zu rows to %s/%s failed: %s",
				w->path, n, ts->group, ts->cols[i].name,
				errno ? strerror(errno) : "HDF5 error");
	}
	free(buf);
	/*
	 * A failure part-way leaves some columns longer than others; the
	 * recorder then stops writing HDF5 and the journal stays the truth.
	 */
	if (rc == QST_OK)
		t->rows += n;
	return rc;
}

/* ------------------------------------------------------------- file */

static int write_root(hid_t file, const struct qst_session_meta *m,
		      const char *created_utc)
{
	int rc = qst_h5_attr_str(file, "schema_name", QST_SCHEMA_NAME);
	rc |= qst_h5_attr_str(file, "schema_version", QST_SCHEMA_VERSION);
	rc |= qst_h5_attr_i32(file, "complete", 0);
	rc |= qst_h5_attr_str(file, "created_utc", created_utc);
	rc |= qst_h5_attr_str(file, "software_version",
			      m->software_version[0] ? m->software_version
						     : QST_VERSION);
	return rc ? QST_ERR_HDF5 : QST_OK;
}

static int write_layout(struct qst_h5w *w, const struct qst_session_meta *m,
			const char *created_utc)
{
	int rc = write_root(w->file, m, created_utc);
	if (rc)
		return rc;
	hid_t g = qst_h5_create_group(w->file, "metadata");
	if (g < 0)
		return QST_ERR_HDF5;
	rc = write_meta_attrs(g, m);
	if (rc == QST_OK)
		rc = write_protocol(g, m);
	H5Gclose(g);
	if (rc == QST_OK)
		rc = write_simulation(w->file, m);
	if (rc == QST_OK)
		rc = write_lookups(w->file);
	if (rc == QST_OK)
		rc = create_table(w->file, &w->devices, &devices_spec);
	if (rc == QST_OK)
		rc = create_table(w->file, &w->temperature, &temperature_spec);
	if (rc == QST_OK)
		rc = create_table(w->file, &w->pressure, &pressure_spec);
	if (rc == QST_OK)
		rc = create_table(w->file, &w->rating, &rating_spec);
	if (rc == QST_OK)
		rc = create_table(w->file, &w->events, &events_spec);
	if (rc == QST_OK)
		rc = create_table(w->file, &w->trials, &trials_spec);
	return rc;
}

int qst_h5w_create(struct qst_h5w *w, const char *path, bool overwrite,
		   const struct qst_session_meta *meta, const char *created_utc)
{
	memset(w, 0, sizeof(*w));
	w->file = -1;
	if (strlen(path) >= sizeof(w->path)) {
		qst_err("path too long: %s", path);
		return QST_ERR_ARG;
	}
	strcpy(w->path, path);
	qst_h5_quiet();
	int rc = qst_file_create_private(path, overwrite);
	if (rc)
		return rc;
	/* The file exists (mode 0600, empty); truncating keeps its mode. */
	w->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (w->file < 0) {
		qst_err("cannot create HDF5 file %s", path);
		unlink(path);
		return QST_ERR_HDF5;
	}
	rc = write_layout(w, meta, created_utc);
	if (rc == QST_OK)
		rc = qst_h5w_flush(w);
	if (rc) {
		qst_err("%s: cannot write the file layout", path);
		qst_h5w_close(w);
		unlink(path);
	}
	return rc;
}

int qst_h5w_flush(struct qst_h5w *w)
{
	errno = 0;
	if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0) {
		qst_err("%s: flush failed: %s", w->path,
			errno ? strerror(errno) : "HDF5 error");
		return QST_ERR_IO;
	}
	return QST_OK;
}

int qst_h5w_set_complete(struct qst_h5w *w, bool complete)
{
	if (qst_h5_attr_i32(w->file, "complete", complete ? 1 : 0))
		return QST_ERR_IO;
	return qst_h5w_flush(w);
}

int qst_h5w_close(struct qst_h5w *w)
{
	int rc = QST_OK;
	close_table(&w->devices);
	close_table(&w->temperature);
	close_table(&w->pressure);
	close_table(&w->rating);
	close_table(&w->events);
	close_table(&w->trials);
	if (w->file >= 0) {
		errno = 0;
		if (H5Fclose(w->file) < 0) {
			qst_err("%s: close failed: %s", w->path,
				errno ? strerror(errno) : "HDF5 error");
			rc = QST_ERR_IO;
		}
		w->file = -1;
	}
	return rc;
}
