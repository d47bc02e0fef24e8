/*
 * Paradigm indices from a session file (analysis/paradigms.c): session
 * files built through the recorder with a TSP train, a CPM block and an
 * offset-analgesia pair by the event contract of docs/hdf5-schema.md
 * ("Paradigm marks"); the expected values are computed here from the
 * same inputs with the formulas of qst-domain.md §6.1, §6.3, §6.4. Also
 * a file with no paradigm and damaged files (an error, never a crash).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>

#include "qst_paradigms.h"
#include "qst_recorder.h"

#define NS(s) ((int64_t)llround((s) * 1e9))

static char dir[64], path[128];
static char err[512];

/* §6.1 worked example (docs/indices.md), pulse order 1..10. */
static const double tsp_r[] = { 20, 18, 25, 30, 41, 60, 52, 49, 50, 55 };
#define TSP_N (sizeof(tsp_r) / sizeof(tsp_r[0]))
static const double cpm_before[] = { 60, 62, 58 };
static const double cpm_during[] = { 40, 44 };
static const double cpm_after[] = { 50, 52 };

/* OA on mark time: T2 starts at 5 s, T3 at 10 s, the waveform ends at
 * 25 s (then the slider is let go, at 0 from 25.5 s: no part of T3); the
 * offset trial dips to 40 at 12 s and is back at 50 by 20 s; the control
 * stays at 50. */
#define OA_T2 5.0
#define OA_T3 10.0
#define OA_END 25.0
static double oa_offset_fn(double t)
{
	if (t >= OA_END + 0.5)
		return 0;
	if (t < OA_T2)
		return 50;
	if (t < OA_T3)
		return 60;
	if (t < 12)
		return 60 - 10 * (t - OA_T3);
	if (t < 20)
		return 40 + 10 * (t - 12) / 8;
	return 50;
}

static double oa_control_fn(double t)
{
	return t < OA_END + 0.5 ? 50 : 0;
}

static void fill_meta(struct qst_session_meta *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->subject_id, "SUBJ09");
	m->sex = 'M';
	m->age_years = 41;
	strcpy(m->site, "hand");
	strcpy(m->protocol_name, "paradigms");
	m->protocol_text = "-- test";
	m->protocol_len = strlen(m->protocol_text);
	strcpy(m->software_version, "test");
	strcpy(m->station, "simulated");
	strcpy(m->clock_source, "virtual");
}

static void ev(struct qst_recorder *r, double t, int code, double v,
	       double v2, const char *msg)
{
	struct qst_event_record e = { NS(t), code, QST_EVS_SCRIPT, -1, v, v2,
				      msg };
	assert_int_equal(qst_recorder_event(r, &e), QST_OK);
}

static void mark(struct qst_recorder *r, double t, const char *label,
		 double v, double v2)
{
	ev(r, t, QST_PD_CODE_MARK, v, v2, label);
}

static void temp(struct qst_recorder *r, double t, double c)
{
	struct qst_temp_sample s = { .t_ns = NS(t), .commanded_c = c,
				     .measured_c = c, .neutral_c = 32 };
	assert_int_equal(qst_recorder_temperature(r, &s), QST_OK);
}

static void rating(struct qst_recorder *r, double t, double v)
{
	struct qst_rating_sample s = { NS(t), v, (int32_t)v };
	assert_int_equal(qst_recorder_rating(r, &s), QST_OK);
}

/* A train of TSP_N pulses at 0.5 Hz from t0; ratings in pulse order
 * except pulses 2 and 3, recorded swapped (§6.1 scores in pulse order). */
static void tsp_train(struct qst_recorder *r, double t0, const double *rr,
		      bool rated)
{
	ev(r, t0, QST_EVC_TRAIN_START, TSP_N, 0.5, "train");
	for (size_t k = 1; k <= TSP_N; k++) {
		double t = t0 + 2.0 * (double)k;
		ev(r, t, QST_EVC_PULSE, (double)k, 0.0, "pulse");
		temp(r, t, 32);
		temp(r, t + 0.5, 50);
		temp(r, t + 1.0, 32);
		size_t j = k == 2 ? 3 : k == 3 ? 2 : k;
		if (rated)
			ev(r, t + 1.5, QST_EVC_RATING, (double)j, rr[j - 1],
			   "rating");
	}
}

static void cpm_phase(struct qst_recorder *r, double t0, const char *label,
		      const double *v, size_t n)
{
	mark(r, t0, label, NAN, NAN);
	for (size_t i = 0; i < n; i++)
		ev(r, t0 + 5.0 * (double)(i + 1), QST_EVC_RATING, 1, v[i],
		   "rating");
}

static void oa_trial(struct qst_recorder *r, double t0, const char *label,
		     double (*fn)(double), double first)
{
	mark(r, t0, label, OA_T2, OA_T3);
	/* The segments' durations add up to OA_END (docs/hdf5-schema.md). */
	ev(r, t0, QST_EVC_STIM_WAVEFORM, 51.0, 3.0,
	   fn == oa_offset_fn ? "waveform: 50.0/5.000s 51.0/5.000s 50.0/15.000s"
			      : "waveform: 50.0/10.000s 50.0/15.000s");
	for (int k = 0; first + 0.1 * k <= 30.0; k++) {
		double t = first + 0.1 * k;
		rating(r, t0 + t, fn(t));
		temp(r, t0 + t, t < OA_T2 ? 45 : t < OA_T3 && fn == oa_offset_fn
							   ? 46 : 45);
	}
}

enum { WITH_TSP = 1, WITH_CPM = 2, WITH_OA = 4 };

static void record(int what)
{
	struct qst_session_meta m;
	struct qst_recorder *r = NULL;
	fill_meta(&m);
	assert_int_equal(qst_recorder_create(path, &m, true, &r), QST_OK);
	ev(r, 0.0, QST_EVC_SESSION_START, NAN, NAN, "");
	if (what & WITH_TSP) {
		tsp_train(r, 10.0, tsp_r, true);
		tsp_train(r, 40.0, tsp_r, false); /* conditioning: unrated */
		/* A one-pulse train (a CPM test stimulus): no summation. */
		ev(r, 65.0, QST_EVC_TRAIN_START, 1, 0.1, "train");
		ev(r, 66.0, QST_EVC_PULSE, 1, 0.0, "pulse");
		ev(r, 67.0, QST_EVC_RATING, 1, 50, "rating");
	}
	if (what & WITH_CPM) {
		mark(r, 70.0, "cpm:ts_c", 46.0, NAN);
		cpm_phase(r, 71.0, "cpm:before", cpm_before, 3);
		ev(r, 99.0, QST_PD_CODE_CONDITION, 10.0, 1.0, "cold water");
		cpm_phase(r, 100.0, "cpm:during", cpm_during, 2);
		ev(r, 112.0, QST_PD_CODE_CONDITION, 10.0, 0.0, "cold water");
		cpm_phase(r, 130.0, "cpm:after", cpm_after, 2);
	}
	if (what & WITH_OA) {
		oa_trial(r, 200.0, "oa:offset", oa_offset_fn, 0.0);
		oa_trial(r, 300.0, "oa:control", oa_control_fn, 0.05);
	}
	ev(r, 400.0, QST_EVC_SESSION_END, 0, NAN, "complete");
	assert_int_equal(qst_recorder_close(r, true), QST_OK);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_paradigms.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.h5", dir);
	return 0;
}

static int teardown(void **state)
{
	char j[160];
	(void)state;
	snprintf(j, sizeof(j), "%s.journal", path);
	unlink(j);
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct qst_paradigms *compute(struct qst_streams **keep)
{
	struct qst_streams *s = NULL;
	struct qst_paradigms *pd = NULL;
	int rc = qst_streams_load(path, &s, err, sizeof(err));
	if (rc != QST_OK)
		fail_msg("load: %d %s", rc, err);
	assert_int_equal(qst_paradigms_compute(s, &pd), QST_OK);
	if (keep)
		*keep = s;
	else
		qst_streams_free(s);
	return pd;
}

static const struct qst_index_row *row(const struct qst_paradigms *pd,
				       enum qst_index_variant v, int inst,
				       const char *detail)
{
	for (size_t i = 0; i < pd->n_rows; i++)
		if (pd->rows[i].ix.variant == v && pd->rows[i].instance == inst &&
		    (!detail || strstr(pd->rows[i].detail, detail)))
			return &pd->rows[i];
	fail_msg("no row for %s #%d %s", qst_index_info(v)->name, inst,
		 detail ? detail : "");
	return NULL;
}

static void near(const struct qst_index_row *r, double want)
{
	if (!qst_index_defined(&r->ix) || fabs(r->ix.value - want) > 1e-6)
		fail_msg("%s: got %g (flags %#x), want %g",
			 qst_index_info(r->ix.variant)->name, r->ix.value,
			 r->ix.flags, want);
}

static size_t count_paradigm(const struct qst_paradigms *pd,
			     enum qst_paradigm p)
{
	size_t n = 0;
	for (size_t i = 0; i < pd->n_rows; i++)
		n += pd->rows[i].paradigm == p;
	return n;
}

static void test_tsp(void **state)
{
	(void)state;
	record(WITH_TSP);
	struct qst_paradigms *pd = compute(NULL);
	double lo = tsp_r[0], hi = tsp_r[0];
	for (size_t i = 0; i < TSP_N; i++) {
		lo = fmin(lo, tsp_r[i]);
		hi = fmax(hi, tsp_r[i]);
	}
	double first = tsp_r[0], last = tsp_r[TSP_N - 1];
	near(row(pd, QST_IX_TSP_DIFF, 1, NULL), last - first);
	near(row(pd, QST_IX_TSP_MAX, 1, NULL), hi - first);
	near(row(pd, QST_IX_TSP_FROM_MIN, 1, NULL), last - lo);
	near(row(pd, QST_IX_TSP_RATIO, 1, NULL), last / first);
	/* The unrated and the one-pulse train give no rows; nothing else
	 * is found. */
	assert_int_equal(pd->n_rows, 4);
	assert_int_equal(count_paradigm(pd, QST_PD_TSP), 4);
	assert_int_equal(pd->n_inst, 1);
	assert_int_equal(pd->inst[0].n_points, TSP_N);
	/* Plot points sit at their pulse's time, in pulse order. */
	assert_true(fabs(pd->inst[0].points[1].t - 14.0) < 1e-6);
	assert_true(fabs(pd->inst[0].points[1].v - tsp_r[1]) < 1e-9);
	qst_paradigms_free(pd);
}

static void test_tsp_zero_first(void **state)
{
	(void)state;
	struct qst_session_meta m;
	struct qst_recorder *r = NULL;
	double rr[TSP_N];
	memcpy(rr, tsp_r, sizeof(rr));
	rr[0] = 0; /* a valid rating (§7.4): only the ratio is undefined */
	fill_meta(&m);
	assert_int_equal(qst_recorder_create(path, &m, true, &r), QST_OK);
	tsp_train(r, 10.0, rr, true);
	assert_int_equal(qst_recorder_close(r, true), QST_OK);
	struct qst_paradigms *pd = compute(NULL);
	near(row(pd, QST_IX_TSP_DIFF, 1, NULL), rr[TSP_N - 1]);
	const struct qst_index_row *ratio = row(pd, QST_IX_TSP_RATIO, 1, NULL);
	assert_false(qst_index_defined(&ratio->ix));
	assert_true(ratio->ix.flags & QST_IDX_ZERO_BASE);
	char fl[64];
	qst_index_flags_format(ratio->ix.flags, fl, sizeof(fl));
	assert_string_equal(fl, "undefined,zero_base");
	qst_paradigms_free(pd);
}

static double mean(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static void test_cpm(void **state)
{
	(void)state;
	record(WITH_CPM);
	struct qst_paradigms *pd = compute(NULL);
	double b = mean(cpm_before, 3), d = mean(cpm_during, 2);
	double a = mean(cpm_after, 2);
	near(row(pd, QST_IX_CPM_ABS, 1, NULL), d - b);
	near(row(pd, QST_IX_CPM_PCT, 1, NULL), 100 * (d - b) / b);
	near(row(pd, QST_IX_CPM_INHIBITION, 1, NULL), b - d);
	near(row(pd, QST_IX_CPM_EARLY, 1, NULL), b - d);
	near(row(pd, QST_IX_CPM_LATE, 1, NULL), b - a);
	/* Sample SD of the before ratings; inhibition beyond 2 SD → +1. */
	double ss = 0;
	for (int i = 0; i < 3; i++)
		ss += (cpm_before[i] - b) * (cpm_before[i] - b);
	double sem = sqrt(ss / 2);
	near(row(pd, QST_IX_CPM_RESPONDER, 1, NULL),
	     b - d > 2 * sem ? 1 : b - d < -2 * sem ? -1 : 0);
	assert_non_null(strstr(row(pd, QST_IX_CPM_ABS, 1, NULL)->detail,
			       "TS 46.0 degC"));
	assert_int_equal(pd->n_rows, count_paradigm(pd, QST_PD_CPM));
	qst_paradigms_free(pd);
}

static void test_oa(void **state)
{
	(void)state;
	record(WITH_OA);
	struct qst_paradigms *pd = compute(NULL);
	/* The offset minimum in T3 lies at 12 s on the 0.1 s grid. */
	near(row(pd, QST_IX_OA_ABS_MIN, 1, NULL),
	     oa_control_fn(12) - oa_offset_fn(12));
	assert_true(fabs(pd->inst[0].t_min - 12.0) < 1e-6);
	near(row(pd, QST_IX_OA_ABS, 1, "+ 1 s"),
	     oa_control_fn(OA_T3 + 1) - oa_offset_fn(OA_T3 + 1));
	near(row(pd, QST_IX_OA_ABS, 1, "+ 5 s"),
	     oa_control_fn(OA_T3 + 5) - oa_offset_fn(OA_T3 + 5));
	double t2max = oa_offset_fn(OA_T2), t3min = oa_offset_fn(12);
	near(row(pd, QST_IX_OA_PCT, 1, NULL), 100 * (t2max - t3min) / t2max);
	assert_int_equal(pd->n_rows, count_paradigm(pd, QST_PD_OA));
	assert_true(fabs(pd->inst[0].t3_end - OA_END) < 1e-6);
	qst_paradigms_free(pd);
}

static void test_all_and_svg(void **state)
{
	(void)state;
	record(WITH_TSP | WITH_CPM | WITH_OA);
	struct qst_streams *s = NULL;
	struct qst_paradigms *pd = compute(&s);
	assert_int_equal(count_paradigm(pd, QST_PD_TSP), 4);
	assert_int_equal(count_paradigm(pd, QST_PD_CPM), 6);
	assert_int_equal(count_paradigm(pd, QST_PD_OA), 4);
	for (int p = 0; p < QST_PD_COUNT; p++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		assert_non_null(f);
		assert_int_equal(qst_paradigm_svg(f, (enum qst_paradigm)p, pd, s,
						  "SUBJ<&>"), QST_OK);
		fclose(f);
		assert_non_null(strstr(buf, "</svg>"));
		assert_non_null(strstr(buf, "SUBJ&lt;&amp;&gt;"));
		assert_null(strstr(buf, "nan"));
		/* The conditioning stimulus is shown on the CPM page only. */
		assert_true((strstr(buf, "class=\"conditioning\"") != NULL) ==
			    (p == QST_PD_CPM));
		free(buf);
	}
	qst_paradigms_free(pd);
	qst_streams_free(s);
}

static void test_none(void **state)
{
	(void)state;
	record(0);
	struct qst_streams *s = NULL;
	struct qst_paradigms *pd = compute(&s);
	assert_int_equal(pd->n_rows, 0);
	assert_int_equal(pd->n_inst, 0);
	FILE *f = fopen("/dev/null", "w");
	assert_int_equal(qst_paradigm_svg(f, QST_PD_TSP, pd, s, ""),
			 QST_ERR_NOTFOUND);
	fclose(f);
	qst_paradigms_free(pd);
	qst_streams_free(s);
}

/* ------------------------------------------------------ damaged files */

static void replace_with_string(const char *group, const char *name)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
	assert_true(f >= 0);
	hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
	assert_true(g >= 0);
	assert_true(H5Ldelete(g, name, H5P_DEFAULT) >= 0);
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	hsize_t dims[1] = { 1 };
	hid_t sp = H5Screate_simple(1, dims, NULL);
	hid_t ds = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT,
			      H5P_DEFAULT);
	const char *v = "not a number";
	assert_true(H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0);
	H5Dclose(ds);
	H5Sclose(sp);
	H5Tclose(t);
	H5Gclose(g);
	H5Fclose(f);
}

static void delete_link(const char *name)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
	assert_true(f >= 0);
	assert_true(H5Ldelete(f, name, H5P_DEFAULT) >= 0);
	H5Fclose(f);
}

static void load_fails(const char *expect)
{
	struct qst_streams *s = (void *)1;
	assert_int_equal(qst_streams_load(path, &s, err, sizeof(err)),
			 QST_ERR_DATA);
	assert_null(s);
	if (!strstr(err, path) || !strstr(err, expect))
		fail_msg("message '%s' lacks the file or '%s'", err, expect);
}

static void test_damaged(void **state)
{
	(void)state;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	record(WITH_OA);
	replace_with_string("rating", "value");
	load_fails("/rating/value is not a numeric column");

	record(WITH_TSP);
	replace_with_string("events", "code");
	load_fails("/events/code is not a numeric column");

	record(WITH_TSP);
	replace_with_string("events", "value2"); /* 1 row, the others more */
	delete_link("events/value2");
	load_fails("missing dataset /events/value2");

	record(WITH_TSP);
	delete_link("events");
	load_fails("missing group /events");

	record(WITH_TSP);
	delete_link("lookup/event_code_names");
	load_fails("/lookup/event_code_names");
}

static void test_ragged_and_no_rating(void **state)
{
	(void)state;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	record(WITH_TSP);
	replace_with_string("events", "message");
	/* a 1-row string column beside longer ones: ragged */
	load_fails("/events/message is not a 1-D column of the same length");

	/* No slider stream: the OA pair is there, its indices undefined. */
	record(WITH_OA);
	delete_link("rating");
	struct qst_paradigms *pd = compute(NULL);
	const struct qst_index_row *r = row(pd, QST_IX_OA_ABS_MIN, 1, NULL);
	assert_false(qst_index_defined(&r->ix));
	assert_true(r->ix.flags & QST_IDX_EMPTY);
	qst_paradigms_free(pd);
}

int main(void)
{
	qst_h5_no_atexit();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_tsp),
		T(test_tsp_zero_first),
		T(test_cpm),
		T(test_oa),
		T(test_all_and_svg),
		T(test_none),
		T(test_damaged),
		T(test_ragged_and_no_rating),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
