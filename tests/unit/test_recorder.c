/*
 * Unit tests for the recorder (HDF5 + journal + recover) and for reading
 * session files back (analysis/session_file.c).
 *
 * QST_KEEP_DIR=DIR keeps copies of the files made here for
 * tests/python/check_session.py: DIR/session.h5 (a closed recording),
 * DIR/recovered.h5 (rebuilt from its journal), DIR/analysis.h5 (with
 * /analysis).
 */
#define _GNU_SOURCE /* nftw flags */
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>

#include "qst_analysis.h"
#include "qst_recorder.h"
#include "qst_session_file.h"

#define N_TRIALS 6
#define N_SAMPLES_PER_TRIAL 40

static const char protocol_text[] =
	"-- test protocol\nqst.log(\"warm ramp 1 \\194\\176C/s\")\n"
	"local x = 'quoted * star'\n\tend\n";

struct fixture {
	char dir[64];
	char path[128];
	struct qst_trial_record trials[N_TRIALS];
};

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	strcpy(fx->dir, "/tmp/qst-rec-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/s.h5", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void fill_meta(struct qst_session_meta *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->subject_id, "SUBJ01");
	m->sex = 'F';
	m->age_years = 34;
	strcpy(m->site, "hand");
	strcpy(m->side, "right");
	strcpy(m->operator_name, "OP07");
	strcpy(m->protocol_name, "dfns_thermal");
	strcpy(m->protocol_version, "1.0");
	strcpy(m->protocol_path, "protocols/dfns thermal.lua");
	m->protocol_text = protocol_text;
	m->protocol_len = strlen(protocol_text);
	qst_sha256_hex(protocol_text, m->protocol_len, m->protocol_sha256);
	strcpy(m->software_version, "0.1.0-test");
	strcpy(m->station, "simulated");
	strcpy(m->clock_source, "virtual");
	m->origin_utc_ns = INT64_C(1790000000123456789);
	m->seed = UINT64_C(18446744073709551557); /* > INT64_MAX on purpose */
	m->thermode_area_cm2 = 9.0;
	m->n_sim_truth = 2;
	strcpy(m->sim_truth[0].key, "cdt_delta_c");
	m->sim_truth[0].value = -0.8;
	strcpy(m->sim_truth[1].key, "rt_mean_s");
	m->sim_truth[1].value = 0.35;
	strcpy(m->participant_profile, "healthy");
}

static struct qst_trial_record make_trial(int i)
{
	struct qst_trial_record t;
	memset(&t, 0, sizeof(t));
	t.trial_id = i;
	t.test = i < 3 ? QST_CDT : QST_WDT;
	t.repetition = i % 3 + 1;
	t.direction = i < 3 ? -1 : +1;
	t.t_start_ns = (int64_t)i * 10 * QST_NS_PER_S;
	t.t_onset_ns = t.t_start_ns + 4 * QST_NS_PER_S + 1;
	t.t_response_ns = i == 5 ? -1 : t.t_onset_ns + 2 * QST_NS_PER_S + 7;
	t.t_stop_ns = t.t_start_ns + 9 * QST_NS_PER_S;
	t.baseline_c = 32.0;
	t.rate_c_s = 1.0;
	t.return_rate_c_s = 1.0;
	t.cutoff_c = i < 3 ? 0.0 : 50.0;
	/* values that do not survive a decimal round trip */
	t.value_measured = 32.0 + (t.direction) * (1.0 / 3.0 + i * 0.1);
	t.value_commanded = t.value_measured + 1e-17 * i;
	t.latency_s = 2.000000007;
	t.device_rt_s = i == 2 ? NAN : 0.3 + i * 1e-9;
	t.key = i == 5 ? -1 : 1;
	t.quality = i % QST_QUALITY_COUNT;
	t.flags = i == 5 ? QST_TRIAL_CUTOFF_REACHED : 0;
	return t;
}

static const char *const messages[] = {
	"plain", "", "two words", "degree \xc2\xb0" "C and a\nnewline",
	"back\\slash *star", "tab\there",
};

/* Record a session; stop after `stop_after` trials; close only if asked. */
static void record(struct fixture *fx, int stop_after, bool do_close)
{
	struct qst_session_meta m;
	struct qst_recorder *r = NULL;
	struct qst_device_record dev = { "thermal", "tcs2", "TCS II",
					 "SN 0042", "v3.1", "sim:tcs2" };

	fill_meta(&m);
	assert_int_equal(qst_recorder_create(fx->path, &m, false, &r), QST_OK);
	assert_string_equal(qst_recorder_path(r), fx->path);
	assert_int_equal(qst_recorder_add_device(r, &dev), QST_OK);
	strcpy(dev.role, "response");
	strcpy(dev.driver, "xid");
	assert_int_equal(qst_recorder_add_device(r, &dev), QST_OK);
	for (int i = 0; i < stop_after; i++) {
		fx->trials[i] = make_trial(i);
		for (int k = 0; k < N_SAMPLES_PER_TRIAL; k++) {
			struct qst_temp_sample s = { 0 };
			s.t_ns = fx->trials[i].t_start_ns + k * 10 * QST_NS_PER_MS;
			s.commanded_c = 32.0 + k * 0.1;
			s.measured_c = s.commanded_c - 0.05;
			s.neutral_c = 32.0;
			for (int z = 0; z < QST_THERMODE_ZONES; z++)
				s.zone_c[z] = s.measured_c + z * 0.01;
			assert_int_equal(qst_recorder_temperature(r, &s), QST_OK);
		}
		struct qst_event_record e = {
			fx->trials[i].t_onset_ns, QST_EVC_STIM_RAMP,
			QST_EVS_THERMAL, i, 40.0, 1.0,
			messages[i % 6],
		};
		assert_int_equal(qst_recorder_event(r, &e), QST_OK);
		e.code = QST_EVC_RESPONSE_PRESS;
		e.source = QST_EVS_RESPONSE;
		e.message = NULL;
		e.value2 = NAN;
		assert_int_equal(qst_recorder_event(r, &e), QST_OK);
		assert_int_equal(qst_recorder_trial(r, &fx->trials[i]), QST_OK);
	}
	if (do_close)
		assert_int_equal(qst_recorder_close(r, true), QST_OK);
	/* else: the caller _exits without closing, like a crash */
}

/* Same bits, NaN equal to NaN. */
static void assert_same_double(double a, double b)
{
	assert_memory_equal(&a, &b, sizeof(a));
}

static void check_trials(const char *path, const struct fixture *fx, int n)
{
	struct qst_session_data *d = NULL;
	char err[256];

	assert_int_equal(qst_session_load(path, &d, err, sizeof(err)), QST_OK);
	assert_int_equal(d->n_trials, n);
	assert_string_equal(d->subject_id, "SUBJ01");
	assert_int_equal(d->subject.sex, 'F');
	assert_true(d->subject.age_years == 34.0);
	assert_string_equal(d->subject.site, "hand");
	assert_string_equal(d->protocol_name, "dfns_thermal");
	assert_int_equal(strncmp(d->session_start_time, "2026-", 5), 0);
	for (int i = 0; i < n; i++) {
		const struct qst_trial_view *v = &d->trials[i];
		const struct qst_trial_record *t = &fx->trials[i];
		assert_int_equal(v->test, t->test);
		assert_int_equal(v->repetition, t->repetition);
		assert_int_equal(v->direction, t->direction);
		assert_same_double(v->value, t->value_measured);
		assert_same_double(v->baseline, t->baseline_c);
		assert_int_equal(v->quality, t->quality);
		assert_int_equal(v->flags, (unsigned)t->flags);
	}
	qst_session_data_free(d);
}

static hsize_t column_length(const char *path, const char *name)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
	assert_true(ds >= 0);
	hid_t sp = H5Dget_space(ds);
	hsize_t n = (hsize_t)H5Sget_simple_extent_npoints(sp);
	H5Sclose(sp);
	H5Dclose(ds);
	H5Fclose(f);
	return n;
}

static void read_doubles(const char *path, const char *name, double *out)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
	assert_true(ds >= 0);
	assert_true(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
			    H5P_DEFAULT, out) >= 0);
	H5Dclose(ds);
	H5Fclose(f);
}

static int read_root_complete(const char *path)
{
	int32_t v = -1;
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t a = H5Aopen(f, "complete", H5P_DEFAULT);
	assert_true(a >= 0);
	H5Aread(a, H5T_NATIVE_INT32, &v);
	H5Aclose(a);
	H5Fclose(f);
	return v;
}

static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;
	assert_int_equal(qst_read_file(path, &data, len), QST_OK);
	return data;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void keep_copy(const char *path, const char *name)
{
	const char *keep = getenv("QST_KEEP_DIR");
	char dst[512];
	size_t len;

	if (!keep || !*keep)
		return;
	char *data = slurp(path, &len);
	snprintf(dst, sizeof(dst), "%s/%s", keep, name);
	spit(dst, data, len);
	free(data);
}

/* ---------------------------------------------------------------- tests */

static void test_roundtrip(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	char jpath[160];

	record(fx, N_TRIALS, true);
	check_trials(fx->path, fx, N_TRIALS);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(jpath, sizeof(jpath), "%s.journal", fx->path);
	assert_int_equal(stat(jpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(read_root_complete(fx->path), 1);
	assert_int_equal(column_length(fx->path, "/temperature/t_s"),
			 N_TRIALS * N_SAMPLES_PER_TRIAL);
	assert_int_equal(column_length(fx->path, "/events/message"),
			 2 * N_TRIALS);
	assert_int_equal(column_length(fx->path, "/devices/serial"), 2);

	double rs[N_TRIALS];
	read_doubles(fx->path, "/trials/t_response_s", rs);
	assert_true(isnan(rs[5]));
	assert_true(fabs(rs[0] - 6.000000008) < 1e-12);
	keep_copy(fx->path, "session.h5");
}

static void test_refuse_existing(void **state)
{
	struct fixture *fx = *state;
	struct qst_session_meta m;
	struct qst_recorder *r = NULL;

	record(fx, 2, true);
	fill_meta(&m);
	assert_int_equal(qst_recorder_create(fx->path, &m, false, &r),
			 QST_ERR_EXISTS);
	assert_null(r);
	/* the refused attempt left the old file intact */
	check_trials(fx->path, fx, 2);
	assert_int_equal(qst_recorder_create(fx->path, &m, true, &r), QST_OK);
	assert_int_equal(qst_recorder_close(r, false), QST_OK);
	check_trials(fx->path, fx, 0);
	assert_int_equal(read_root_complete(fx->path), 0);
}

static void test_orphan_journal_refused(void **state)
{
	struct fixture *fx = *state;
	struct qst_session_meta m;
	struct qst_recorder *r = NULL;
	char jpath[160];

	snprintf(jpath, sizeof(jpath), "%s.journal", fx->path);
	spit(jpath, "x\n", 2);
	fill_meta(&m);
	assert_int_equal(qst_recorder_create(fx->path, &m, false, &r),
			 QST_ERR_EXISTS);
	assert_int_equal(access(fx->path, F_OK), -1); /* nothing left behind */
}

/* Record in a child that dies without closing, as a SIGKILL would. */
static void record_and_crash(struct fixture *fx, int n)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		record(fx, n, false);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < n; i++)
		fx->trials[i] = make_trial(i);
}

static void test_recover_after_crash(void **state)
{
	struct fixture *fx = *state;
	struct qst_recover_report rep;
	char jpath[160], out[160], out2[160], err[256];

	record_and_crash(fx, 4);
	snprintf(jpath, sizeof(jpath), "%s.journal", fx->path);
	snprintf(out, sizeof(out), "%s/rec.h5", fx->dir);
	snprintf(out2, sizeof(out2), "%s/rec2.h5", fx->dir);
	assert_int_equal(qst_recover(jpath, out, false, &rep, err, sizeof(err)),
			 QST_OK);
	assert_int_equal(rep.trials, 4);
	assert_int_equal(rep.events, 8);
	assert_int_equal(rep.samples, 4 * N_SAMPLES_PER_TRIAL);
	assert_int_equal(rep.devices, 2);
	assert_false(rep.complete);
	assert_false(rep.truncated_tail);
	check_trials(out, fx, 4);
	assert_int_equal(read_root_complete(out), 0);

	/* idempotent: recovering again (overwrite) gives the same bytes */
	size_t l1, l2;
	char *a = slurp(out, &l1);
	assert_int_equal(qst_recover(jpath, out, true, &rep, err, sizeof(err)),
			 QST_OK);
	char *b = slurp(out, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(a, b, l1);
	free(a);
	free(b);

	/* the crashed file itself is readable up to the last trial */
	check_trials(fx->path, fx, 4);

	/* refuses an existing output */
	assert_int_equal(qst_recover(jpath, out, false, &rep, err, sizeof(err)),
			 QST_ERR_EXISTS);
	assert_non_null(strstr(err, "exists"));
	/* and never the journal itself */
	assert_int_equal(qst_recover(jpath, jpath, true, &rep, err, sizeof(err)),
			 QST_ERR_ARG);
	(void)out2;
}

static void test_recover_complete_matches_live(void **state)
{
	struct fixture *fx = *state;
	struct qst_recover_report rep;
	char jpath[160], out[160], err[256];
	double live[N_TRIALS * N_SAMPLES_PER_TRIAL];
	double rec[N_TRIALS * N_SAMPLES_PER_TRIAL];

	record(fx, N_TRIALS, true);
	snprintf(jpath, sizeof(jpath), "%s.journal", fx->path);
	snprintf(out, sizeof(out), "%s/rec.h5", fx->dir);
	assert_int_equal(qst_recover(jpath, out, false, &rep, err, sizeof(err)),
			 QST_OK);
	assert_true(rep.complete);
	assert_int_equal(rep.trials, N_TRIALS);
	assert_int_equal(read_root_complete(out), 1);
	check_trials(out, fx, N_TRIALS);

	static const char *const cols[] = {
		"/trials/value_commanded", "/trials/device_rt_s",
		"/trials/latency_s", "/temperature/measured_c",
		"/temperature/zone5_c", "/events/value2", "/events/t_s",
	};
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		hsize_t n = column_length(fx->path, cols[c]);
		assert_int_equal(n, column_length(out, cols[c]));
		read_doubles(fx->path, cols[c], live);
		read_doubles(out, cols[c], rec);
		assert_memory_equal(live, rec, n * sizeof(double));
	}
	keep_copy(out, "recovered.h5");
}

static void test_recover_truncated_tail(void **state)
{
	struct fixture *fx = *state;
	struct qst_recover_report rep;
	char jpath[160], cut[160], out[160], err[256];
	size_t len;

	record_and_crash(fx, 5);
	snprintf(jpath, sizeof(jpath), "%s.journal", fx->path);
	snprintf(cut, sizeof(cut), "%s/cut.journal", fx->dir);
	snprintf(out, sizeof(out), "%s/rec.h5", fx->dir);
	char *data = slurp(jpath, &len);
	/* cut in the middle of the last line: the 5th trial */
	assert_true(len > 20 && data[len - 1] == '\n');
	spit(cut, data, len - 15);
	assert_int_equal(qst_recover(cut, out, false, &rep, err, sizeof(err)),
			 QST_OK);
	assert_true(rep.truncated_tail);
	assert_false(rep.complete);
	assert_int_equal(rep.trials, 4);
	/* the 5th trial's samples and events were complete lines: kept */
	assert_int_equal(rep.samples, 5 * N_SAMPLES_PER_TRIAL);
	check_trials(out, fx, 4);

	/* a complete last line with a garbled CRC is also a torn tail */
	data[len - 3] = data[len - 3] == '0' ? '1' : '0';
	spit(cut, data, len);
	assert_int_equal(qst_recover(cut, out, true, &rep, err, sizeof(err)),
			 QST_OK);
	assert_true(rep.truncated_tail);
	assert_int_equal(rep.trials, 4);
	free(data);
}

static void test_recover_corrupt_middle(void **state)
{
	struct fixture *fx = *state;
	struct qst_recover_report rep;
	char jpath[160], bad[160], out[160], err[256];
	size_t len;

	record(fx, 3, true);
	snprintf(jpath, sizeof(jpath), "%s.journal", fx->path);
	snprintf(bad, sizeof(bad), "%s/bad.journal", fx->dir);
	snprintf(out, sizeof(out), "%s/rec.h5", fx->dir);
	char *data = slurp(jpath, &len);
	/* change one character of line 3 (metadata subject_id) */
	char *p = data;
	for (int line = 1; line < 3; line++)
		p = strchr(p, '\n') + 1;
	char *at = strstr(p, "SUBJ01");
	assert_non_null(at);
	assert_true(at < strchr(p, '\n'));
	at[4] = '9';
	spit(bad, data, len);
	assert_int_equal(qst_recover(bad, out, false, &rep, err, sizeof(err)),
			 QST_ERR_CHECKSUM);
	assert_non_null(strstr(err, "line 3"));
	assert_int_equal(access(out, F_OK), -1);

	/* not a journal at all */
	spit(bad, "hello world *00000000\nmore\n", 27);
	assert_int_equal(qst_recover(bad, out, false, &rep, err, sizeof(err)),
			 QST_ERR_CHECKSUM);
	free(data);
}

static void fill_results(struct qst_result res[QST_PARAM_COUNT], double shift)
{
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].param = (enum qst_param)i;
		if (i > QST_WDT) {
			res[i].flags = QST_RES_NOT_DONE;
			res[i].value_raw = res[i].value_transformed = NAN;
			res[i].ref_mean = res[i].ref_sd = res[i].z = NAN;
			continue;
		}
		res[i].n = 3;
		res[i].value_raw = -1.25 + i + shift;
		res[i].value_transformed = log10(1.25 + i + shift);
		res[i].ref_mean = -0.1;
		res[i].ref_sd = 0.2;
		res[i].z = 1.0 / 3.0 + i;
		res[i].abnormal = i;
		strcpy(res[i].stratum, "hand/F/30-39");
	}
}

static void test_write_analysis_idempotent(void **state)
{
	struct fixture *fx = *state;
	struct qst_result res[QST_PARAM_COUNT];
	double z[QST_PARAM_COUNT], raw[QST_PARAM_COUNT];
	char err[256];

	record(fx, 3, true);
	fill_results(res, 10.0);
	assert_int_equal(qst_session_write_analysis(fx->path, res, NULL, err,
						    sizeof(err)), QST_OK);
	fill_results(res, 0.0);
	assert_int_equal(qst_session_write_analysis(fx->path, res, NULL, err,
						    sizeof(err)), QST_OK);
	size_t l1, l2;
	free(slurp(fx->path, &l1));
	assert_int_equal(qst_session_write_analysis(fx->path, res, NULL, err,
						    sizeof(err)), QST_OK);
	free(slurp(fx->path, &l2));
	assert_true(l2 < l1 + 65536); /* grows a little at most */

	assert_int_equal(column_length(fx->path, "/analysis/z"),
			 QST_PARAM_COUNT);
	read_doubles(fx->path, "/analysis/z", z);
	read_doubles(fx->path, "/analysis/value_raw", raw);
	assert_same_double(z[1], 1.0 / 3.0 + 1);
	assert_same_double(raw[0], -1.25);
	assert_true(isnan(z[QST_PHS]));
	/* the trials are untouched */
	check_trials(fx->path, fx, 3);
	keep_copy(fx->path, "analysis.h5");
}

static void test_load_errors(void **state)
{
	struct fixture *fx = *state;
	struct qst_session_data *d = NULL;
	char path[160], err[256];

	snprintf(path, sizeof(path), "%s/missing.h5", fx->dir);
	assert_int_equal(qst_session_load(path, &d, err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_null(d);
	assert_non_null(strstr(err, "missing.h5"));

	snprintf(path, sizeof(path), "%s/text.h5", fx->dir);
	spit(path, "not hdf5\n", 9);
	assert_int_equal(qst_session_load(path, &d, err, sizeof(err)),
			 QST_ERR_DATA);
	assert_non_null(strstr(err, "not an HDF5 file"));

	/* an HDF5 file of some other kind */
	snprintf(path, sizeof(path), "%s/other.h5", fx->dir);
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	H5Fclose(f);
	assert_int_equal(qst_session_load(path, &d, err, sizeof(err)),
			 QST_ERR_DATA);
	assert_non_null(strstr(err, "not a qst session file"));

	/* a session file without its trial table */
	record(fx, 1, true);
	f = H5Fopen(fx->path, H5F_ACC_RDWR, H5P_DEFAULT);
	H5Ldelete(f, "/trials/baseline_c", H5P_DEFAULT);
	H5Fclose(f);
	assert_int_equal(qst_session_load(fx->path, &d, err, sizeof(err)),
			 QST_ERR_DATA);
	assert_non_null(strstr(err, "/trials/baseline_c"));
}

static void test_event_names(void **state)
{
	(void)state;
	assert_string_equal(qst_event_code_name(QST_EVC_RESPONSE_PRESS),
			    "response_press");
	assert_string_equal(qst_event_code_name(QST_EVC_TEST_NOT_DONE),
			    "test_not_done");
	assert_string_equal(qst_event_code_name(QST_EVC_COUNT), "unknown");
	assert_string_equal(qst_event_source_name(QST_EVS_SUPERVISOR),
			    "supervisor");
	assert_string_equal(qst_event_source_name(-1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_existing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_orphan_journal_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_after_crash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_recover_complete_matches_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_truncated_tail,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_corrupt_middle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_analysis_idempotent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup,
						teardown),
		cmocka_unit_test(test_event_names),
	};
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
