/*
 * Reading damaged session files (issue 7, hostile input): the bugs the
 * corrupt-file sweep (tests/integration/corrupt_files.sh) found, each as
 * a small file built here, plus the reader child's crash and CPU limits.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>

#include "analysis_internal.h"
#include "qst_session_file.h"

static char dir[64], path[128];
static char err[512];

static void attr_s(hid_t obj, const char *name, const char *v)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(a >= 0);
	assert_true(H5Awrite(a, t, &v) >= 0);
	H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
}

static void column(hid_t g, const char *name, hid_t mtype, const void *v)
{
	hsize_t dims[1] = { 2 };
	hid_t sp = H5Screate_simple(1, dims, NULL);
	hid_t ds = H5Dcreate2(g, name, mtype, sp, H5P_DEFAULT, H5P_DEFAULT,
			      H5P_DEFAULT);
	assert_true(ds >= 0);
	assert_true(H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(ds);
	H5Sclose(sp);
}

/* Two WDT trials and the metadata analysis needs (docs/hdf5-schema.md). */
static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_session_file.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.h5", dir);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f >= 0);
	attr_s(f, "schema_name", "qst-session");
	attr_s(f, "schema_version", "1.1.0");
	hid_t g = H5Gcreate2(f, "metadata", H5P_DEFAULT, H5P_DEFAULT,
			     H5P_DEFAULT);
	attr_s(g, "subject_id", "SUBJ07");
	attr_s(g, "sex", "F");
	attr_s(g, "site", "hand");
	attr_s(g, "protocol_name", "p");
	attr_s(g, "session_start_utc", "2026-01-01T00:00:00Z");
	double age = 35;
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(g, "age_years", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
			     H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_DOUBLE, &age);
	H5Aclose(a);
	H5Sclose(sp);
	H5Gclose(g);
	g = H5Gcreate2(f, "trials", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	const int32_t test[2] = { QST_WDT, QST_WDT }, rep[2] = { 1, 2 };
	const int32_t zero[2] = { 0, 0 };
	const double value[2] = { 33.5, 33.9 }, base[2] = { 32, 32 };
	column(g, "test", H5T_NATIVE_INT32, test);
	column(g, "repetition", H5T_NATIVE_INT32, rep);
	column(g, "direction", H5T_NATIVE_INT32, zero);
	column(g, "value_measured", H5T_NATIVE_DOUBLE, value);
	column(g, "baseline_c", H5T_NATIVE_DOUBLE, base);
	column(g, "quality", H5T_NATIVE_INT32, zero);
	column(g, "flags", H5T_NATIVE_INT32, zero);
	H5Gclose(g);
	H5Fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static hid_t reopen(void)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
	assert_true(f >= 0);
	return f;
}

static void load_fails(const char *expect)
{
	struct qst_session_data *d = (void *)1;
	assert_int_equal(qst_session_load(path, &d, err, sizeof(err)),
			 QST_ERR_DATA);
	assert_null(d);
	if (!strstr(err, path) || !strstr(err, expect))
		fail_msg("message '%s' lacks the file or '%s'", err, expect);
}

static void test_good_file(void **state)
{
	(void)state;
	struct qst_session_data *d = NULL;
	assert_int_equal(qst_session_load(path, &d, err, sizeof(err)), QST_OK);
	assert_int_equal(d->n_trials, 2);
	assert_true(d->trials[1].value == 33.9);
	assert_string_equal(d->subject_id, "SUBJ07");
	qst_session_data_free(d);
}

/* Bug 1: H5Aread of an attribute array into one value overran the
 * buffer (SIGSEGV); now an attribute must hold exactly one value. */
static void test_attribute_array(void **state)
{
	(void)state;
	hid_t f = reopen();
	hid_t g = H5Gopen2(f, "metadata", H5P_DEFAULT);
	H5Adelete(g, "subject_id");
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	hsize_t n[1] = { 200 };
	hid_t sp = H5Screate_simple(1, n, NULL);
	const char *v[200];
	for (int i = 0; i < 200; i++)
		v[i] = "a string in an array of two hundred";
	hid_t a = H5Acreate2(g, "subject_id", t, sp, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(H5Awrite(a, t, v) >= 0);
	H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	H5Gclose(g);
	H5Fclose(f);
	load_fails("/metadata/subject_id is missing or not a single value");
}

static void test_number_array(void **state)
{
	(void)state;
	hid_t f = reopen();
	hid_t g = H5Gopen2(f, "metadata", H5P_DEFAULT);
	H5Adelete(g, "age_years");
	static double ages[5000];
	hsize_t n[1] = { 5000 };
	hid_t sp = H5Screate_simple(1, n, NULL);
	hid_t a = H5Acreate2(g, "age_years", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
			     H5P_DEFAULT);
	assert_true(H5Awrite(a, H5T_NATIVE_DOUBLE, ages) >= 0);
	H5Aclose(a);
	H5Sclose(sp);
	H5Gclose(g);
	H5Fclose(f);
	load_fails("/metadata/age_years is missing or not a single value");
}

/* Bug 2: a dataspace claiming 2^40 rows made calloc fail (exit 1, no
 * message) or, where memory overcommits, the read fill it. */
static void test_huge_dataspace(void **state)
{
	(void)state;
	hid_t f = reopen();
	H5Ldelete(f, "trials/flags", H5P_DEFAULT);
	hsize_t dims[1] = { (hsize_t)1 << 40 }, max[1] = { H5S_UNLIMITED };
	hsize_t chunk[1] = { 1024 };
	hid_t sp = H5Screate_simple(1, dims, max);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, 1, chunk);
	hid_t ds = H5Dcreate2(f, "trials/flags", H5T_STD_I32LE, sp,
			      H5P_DEFAULT, dcpl, H5P_DEFAULT);
	assert_true(ds >= 0);
	H5Dclose(ds);
	H5Pclose(dcpl);
	H5Sclose(sp);
	H5Fclose(f);
	load_fails("/trials/flags claims 1099511627776 rows");
}

static void test_bad_test_code(void **state)
{
	(void)state;
	hid_t f = reopen();
	hid_t ds = H5Dopen2(f, "trials/test", H5P_DEFAULT);
	const int32_t bad[2] = { QST_WDT, 99 };
	H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, bad);
	H5Dclose(ds);
	H5Fclose(f);
	load_fails("row 1 is 99, not a DFNS test code");
}

static void test_string_column(void **state)
{
	(void)state;
	hid_t f = reopen();
	H5Ldelete(f, "trials/value_measured", H5P_DEFAULT);
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	const char *v[2] = { "33.5", "33.9" };
	column(f, "trials/value_measured", t, v);
	H5Tclose(t);
	H5Fclose(f);
	load_fails("/trials/value_measured is not a numeric column");
}

/* Bug 7 (UBSan): an age of 1e300 reached (int)floor(age / 10), which
 * does not fit an int. Banding is safe now, and the file is refused. */
static void test_absurd_age(void **state)
{
	(void)state;
	assert_int_equal(qst_age_band(1e300), 5);
	assert_int_equal(qst_age_band(-1e300), 0);
	hid_t f = reopen();
	hid_t g = H5Gopen2(f, "metadata", H5P_DEFAULT);
	H5Adelete(g, "age_years");
	double age = 1e300;
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(g, "age_years", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
			     H5P_DEFAULT);
	assert_true(a >= 0);
	assert_true(H5Awrite(a, H5T_NATIVE_DOUBLE, &age) >= 0);
	H5Aclose(a);
	H5Sclose(sp);
	H5Gclose(g);
	H5Fclose(f);
	load_fails("/metadata/age_years is 1e+300, not an age in years");
}

static int crash(void *ctx, void **blob, size_t *len, char *eb, size_t el)
{
	(void)ctx, (void)blob, (void)len, (void)eb, (void)el;
	raise(SIGSEGV);
	return QST_OK;
}

static int spin(void *ctx, void **blob, size_t *len, char *eb, size_t el)
{
	(void)ctx, (void)blob, (void)len, (void)eb, (void)el;
	for (volatile unsigned long i = 0;; i++)
		;
	return QST_OK;
}

/* Bugs 3 and 4: the HDF5 library itself crashes (H5HG_read) or loops on
 * some damaged files; the reader child turns both into an error. */
static void test_reader_child_contains_crash_and_loop(void **state)
{
	(void)state;
	void *blob;
	size_t len;
	assert_int_equal(qst_run_isolated("x.h5", crash, NULL, &blob, &len, err,
					  sizeof(err)), QST_ERR_DATA);
	assert_null(blob);
	assert_non_null(strstr(err, "x.h5: damaged beyond reading: the HDF5 "
				    "library crashed on it"));
	setenv("QST_READ_CPU_SECONDS", "1", 1);
	assert_int_equal(qst_run_isolated("y.h5", spin, NULL, &blob, &len, err,
					  sizeof(err)), QST_ERR_DATA);
	unsetenv("QST_READ_CPU_SECONDS");
	assert_non_null(strstr(err, "y.h5: damaged beyond reading: reading it "
				    "used more than 1 s of CPU"));
}

static size_t entries(void)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") &&
					     strcmp(e->d_name, ".."));
	closedir(d);
	return n;
}

/* Bug 5: /analysis was written into the file in place, so a failure half
 * way left it changed. Now a copy is written and renamed: the mode stays,
 * no temporary file is left. */
static void test_write_analysis_replaces_whole_file(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT];
	struct qst_session_data *d = NULL;
	struct qst_subject subj = { 'F', 35, "hand" };
	struct stat st;

	chmod(path, 0640);
	assert_int_equal(qst_session_load(path, &d, err, sizeof(err)), QST_OK);
	assert_int_equal(qst_analyze_trials(d->trials, d->n_trials, &subj, NULL,
					    res), QST_OK);
	qst_session_data_free(d);
	assert_int_equal(qst_session_write_analysis(path, res, NULL, err,
						    sizeof(err)), QST_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(entries(), 1);
	struct qst_result back[QST_PARAM_COUNT];
	assert_int_equal(qst_session_load_analysis(path, back, NULL, err,
						   sizeof(err)), QST_OK);
	assert_int_equal(back[QST_WDT].n, 2);
	/* A file that is not a session: refused, nothing left beside it. */
	hid_t f = reopen();
	H5Adelete(f, "schema_name");
	H5Fclose(f);
	assert_int_equal(qst_session_write_analysis(path, res, NULL, err,
						    sizeof(err)), QST_ERR_DATA);
	assert_int_equal(entries(), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_good_file),
		T(test_attribute_array),
		T(test_number_array),
		T(test_huge_dataspace),
		T(test_bad_test_code),
		T(test_string_column),
		T(test_absurd_age),
		T(test_reader_child_contains_crash_and_loop),
		T(test_write_analysis_replaces_whole_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
