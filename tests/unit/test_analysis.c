/*
 * Unit tests for analysis/: parameter tables, age bands, reference table
 * loading and lookup, z-scores and the qst-domain.md §3.10 test vectors.
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

#include "qst_analysis.h"

#define TOL_LOG 1e-6 /* §3.10 */
#define TOL_Z 1e-4
#define TOL_RAW 1e-4 /* raw values the doc gives to 4 decimals */

static struct qst_reftable *ref;

static int load_default(void **state)
{
	(void)state;
	char err[512];
	int ret = qst_reftable_load(qst_reftable_default_path(), &ref, err,
				    sizeof(err));
	if (ret != QST_OK)
		fprintf(stderr, "cannot load reference: %s\n", err);
	return ret == QST_OK ? 0 : -1;
}

static int free_default(void **state)
{
	(void)state;
	qst_reftable_free(ref);
	ref = NULL;
	return 0;
}

/* --------------------------------------------------------------- helpers */

#define MAX_TRIALS 64

struct trial_set {
	struct qst_trial_view v[MAX_TRIALS];
	size_t n;
};

static struct qst_trial_view *add(struct trial_set *s, enum qst_param test,
				  int direction, double value)
{
	assert_true(s->n < MAX_TRIALS);
	struct qst_trial_view *t = &s->v[s->n++];
	memset(t, 0, sizeof(*t));
	t->test = test;
	t->repetition = (int)s->n;
	t->direction = direction;
	t->value = value;
	t->baseline = 32.0;
	return t;
}

static void add_many(struct trial_set *s, enum qst_param test, int direction,
		     const double *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(s, test, direction, values[i]);
}

static struct qst_subject subject(char sex, double age, const char *site)
{
	struct qst_subject s = { .sex = sex, .age_years = age };
	snprintf(s.site, sizeof(s.site), "%s", site);
	return s;
}

static void analyze(const struct trial_set *s, struct qst_subject subj,
		    struct qst_result out[QST_PARAM_COUNT])
{
	assert_int_equal(qst_analyze_trials(s->v, s->n, &subj, ref, out),
			 QST_OK);
}

static void assert_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.9f, want %.9f (tolerance %g)", got, want, tol);
}

/* ------------------------------------------------------- constant tables */

static void test_param_tables(void **state)
{
	(void)state;
	/* §3.2 and §3.3, every parameter: name, transform, invert, z-scored. */
	static const struct {
		const char *name;
		enum qst_transform tf;
		bool invert, z;
	} want[QST_PARAM_COUNT] = {
		[QST_CDT] = { "CDT", QST_TF_LOG10_ABS, true, true },
		[QST_WDT] = { "WDT", QST_TF_LOG10, true, true },
		[QST_TSL] = { "TSL", QST_TF_LOG10, true, true },
		[QST_PHS] = { "PHS", QST_TF_NONE, false, false },
		[QST_CPT] = { "CPT", QST_TF_NONE, false, true },
		[QST_HPT] = { "HPT", QST_TF_NONE, true, true },
		[QST_MDT] = { "MDT", QST_TF_LOG10, true, true },
		[QST_MPT] = { "MPT", QST_TF_LOG10, true, true },
		[QST_MPS] = { "MPS", QST_TF_LOG10_PLUS_0_1, false, true },
		[QST_DMA] = { "DMA", QST_TF_LOG10_PLUS_0_1, false, false },
		[QST_WUR] = { "WUR", QST_TF_LOG10, false, true },
		[QST_VDT] = { "VDT", QST_TF_NONE, false, true },
		[QST_PPT] = { "PPT", QST_TF_LOG10, true, true },
	};
	for (int p = 0; p < QST_PARAM_COUNT; p++) {
		const struct qst_param_info *info = qst_param_info(p);
		assert_non_null(info);
		assert_int_equal(info->param, p);
		assert_string_equal(info->name, want[p].name);
		assert_string_equal(qst_param_name(p), want[p].name);
		assert_int_equal(info->transform, want[p].tf);
		assert_int_equal(info->invert, want[p].invert);
		assert_int_equal(info->z_scored, want[p].z);
		assert_non_null(info->unit);
		assert_int_equal(qst_param_from_name(want[p].name), p);
	}
	assert_null(qst_param_info(QST_PARAM_COUNT));
	assert_int_equal(qst_param_from_name("hpt"), QST_HPT);
	assert_int_equal(qst_param_from_name("XYZ"), QST_ERR_NOTFOUND);
	assert_int_equal(qst_param_from_name(NULL), QST_ERR_NOTFOUND);
	assert_string_equal(qst_transform_name(QST_TF_LOG10_ABS), "log10_abs");
	assert_string_equal(qst_transform_name(QST_TF_NONE), "none");
	assert_string_equal(qst_quality_name(QST_QUALITY_BURNING), "burning");
	assert_string_equal(qst_quality_name(99), "unknown");
}

static void test_sign_map_through_zscore(void **state)
{
	(void)state;
	/* A value one SD above the mean gives z = +1 or, inverted, -1. */
	for (int p = 0; p < QST_PARAM_COUNT; p++) {
		double z = qst_zscore(p, 3.0, 2.0, 1.0);
		assert_near(z, qst_param_info(p)->invert ? -1.0 : 1.0, 1e-12);
	}
	assert_near(qst_zscore(QST_CPT, 10.2, 12.16, 9.76), -0.200820, 1e-6);
	assert_true(isnan(qst_zscore(QST_PHS, 1, 0, 0))); /* SD 0 */
	assert_true(isnan(qst_zscore(QST_CDT, NAN, 0, 1)));
}

static void test_abnormal(void **state)
{
	(void)state;
	assert_int_equal(qst_abnormal(0.0), 0);
	assert_int_equal(qst_abnormal(1.96), 0);
	assert_int_equal(qst_abnormal(-1.96), 0);
	assert_int_equal(qst_abnormal(1.9601), 1);
	assert_int_equal(qst_abnormal(-1.9601), -1);
	assert_int_equal(qst_abnormal(NAN), 0);
}

static void test_age_bands(void **state)
{
	(void)state;
	/* §10.3 item 5 */
	assert_int_equal(qst_age_band(19.99), 0);
	assert_int_equal(qst_age_band(20.0), 1);
	assert_int_equal(qst_age_band(29.99), 1);
	assert_int_equal(qst_age_band(30.0), 2);
	assert_int_equal(qst_age_band(59.99), 4);
	assert_int_equal(qst_age_band(60.0), 5);
	assert_int_equal(qst_age_band(95.0), 5);
	assert_int_equal(qst_age_band(0.0), 0);
	assert_int_equal(qst_age_band(-5.0), 0);
	assert_int_equal(qst_age_band(NAN), 0);
}

/* -------------------------------------------------------- reference table */

static void test_reftable_identity(void **state)
{
	(void)state;
	assert_string_equal(qst_reftable_id(ref), "dfns-s13s14-v1");
	assert_non_null(strstr(qst_reftable_source(ref), "S13"));
	/* The digest the loader computed equals the shipped .sha256 file. */
	char path[4096], *text;
	snprintf(path, sizeof(path), "%s.sha256", qst_reftable_default_path());
	assert_int_equal(qst_read_file(path, &text, NULL), QST_OK);
	assert_memory_equal(text, qst_reftable_sha256(ref), 64);
	free(text);
}

static void expect_cell(enum qst_param p, const char *site, char sex,
			double age, double mean, double sd, bool flagged,
			const char *stratum)
{
	struct qst_refcell c;
	assert_int_equal(qst_reftable_lookup(ref, p, site, sex, age, &c),
			 QST_OK);
	assert_near(c.mean, mean, 1e-12);
	assert_near(c.sd, sd, 1e-12);
	assert_int_equal(c.flagged, flagged);
	assert_int_equal(c.age_band, qst_age_band(age));
	if (stratum)
		assert_string_equal(c.stratum, stratum);
}

static void test_reftable_cells(void **state)
{
	(void)state;
	/* Cells checked by hand against qst-domain.md §4.2 and §4.3. */
	expect_cell(QST_CDT, "hand", 'F', 35, 0.078, 0.209, false,
		    "hand/F/30-39");
	expect_cell(QST_CDT, "hand", 'F', 20, 0.046, 0.232, false, NULL);
	expect_cell(QST_HPT, "foot", 'M', 72, 47.74, 1.55, false,
		    "foot/M/60+");
	expect_cell(QST_CPT, "foot", 'F', 60, 9.12, 8.42, false, NULL);
	expect_cell(QST_MPS, "hand", 'F', 25, -0.095, 0.401, false, NULL);
	expect_cell(QST_VDT, "foot", 'M', 55, 6.54, 1.08, false, NULL);
	expect_cell(QST_DMA, "hand", 'M', 61, -1.000, 0.000, false, NULL);
	expect_cell(QST_PHS, "hand", 'M', 31, 0.02, 0.12, false, NULL);
	expect_cell(QST_CPT, "face", 'F', 59.9, 13.34, 10.41, false,
		    "face/F/50-59");
	expect_cell(QST_CDT, "face", 'M', 45, 0.008, 0.202, false, NULL);
	expect_cell(QST_WDT, "face", 'M', 33, 0.072, 0.206, false, NULL);
	/* The three ⚠ cells of §4.1. */
	expect_cell(QST_PHS, "foot", 'F', 66, 0.35, 0.20, true, NULL);
	expect_cell(QST_MDT, "foot", 'M', 80, 0.263, 0.474, true, NULL);
	expect_cell(QST_MDT, "hand", 'M', 60, -0.166, 0.341, true, NULL);
	/* Case-insensitive keys. */
	expect_cell(QST_TSL, "HAND", 'f', 45, 0.491, 0.256, false, NULL);
}

static void test_reftable_coverage(void **state)
{
	(void)state;
	struct qst_refcell c;
	int found = 0, flagged = 0;
	const char *sites[] = { "hand", "foot", "face" };
	for (int p = 0; p < QST_PARAM_COUNT; p++)
		for (int s = 0; s < 3; s++)
			for (int x = 0; x < 2; x++)
				for (int age = 25; age <= 65; age += 10) {
					int ret = qst_reftable_lookup(
						ref, p, sites[s], "FM"[x], age,
						&c);
					if (ret == QST_OK) {
						found++;
						flagged += c.flagged;
					} else {
						assert_int_equal(
							ret, QST_ERR_NOTFOUND);
					}
				}
	/* 13 params × 2 sites × 2 sexes × 5 bands + 4 face params × 2 × 5 */
	assert_int_equal(found, 260 + 40);
	assert_int_equal(flagged, 3);
	assert_int_equal(qst_reftable_lookup(ref, QST_MDT, "face", 'F', 30, &c),
			 QST_ERR_NOTFOUND);
	assert_int_equal(qst_reftable_lookup(ref, QST_CDT, "hand", 'F', 19.99,
					     &c),
			 QST_ERR_NOTFOUND);
	assert_int_equal(qst_reftable_lookup(ref, QST_CDT, "trunk", 'F', 30,
					     &c),
			 QST_ERR_NOTFOUND);
	assert_int_equal(qst_reftable_lookup(ref, QST_CDT, "hand", 'X', 30, &c),
			 QST_ERR_NOTFOUND);
}

/* Temp dir with a reference CSV whose content we choose. */
static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/qst_test_ref_XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
}

static void cleanup_tmpdir(const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.sha256", tmpdir, name);
	unlink(p);
	rmdir(tmpdir);
}

static void test_reftable_checksum(void **state)
{
	(void)state;
	char *text;
	size_t len;
	assert_int_equal(qst_read_file(qst_reftable_default_path(), &text,
				       &len),
			 QST_OK);
	make_tmpdir();
	char csv[256], sum[256];
	snprintf(csv, sizeof(csv), "%s/ref.csv", tmpdir);
	snprintf(sum, sizeof(sum), "%s/ref.csv.sha256", tmpdir);
	write_text(csv, text);
	free(text);

	/* No .sha256: loads unverified. */
	struct qst_reftable *t = NULL;
	char err[512];
	assert_int_equal(qst_reftable_load(csv, &t, err, sizeof(err)), QST_OK);
	char good[65];
	snprintf(good, sizeof(good), "%s", qst_reftable_sha256(t));
	qst_reftable_free(t);

	/* A digest with one digit changed must be refused, naming both. */
	char bad[65];
	memcpy(bad, good, sizeof(bad));
	bad[0] = bad[0] == '0' ? '1' : '0';
	char line[128];
	snprintf(line, sizeof(line), "%s  ref.csv\n", bad);
	write_text(sum, line);
	t = NULL;
	assert_int_equal(qst_reftable_load(csv, &t, err, sizeof(err)),
			 QST_ERR_CHECKSUM);
	assert_null(t);
	assert_non_null(strstr(err, good));
	assert_non_null(strstr(err, bad));
	assert_non_null(strstr(err, csv));

	/* The right digest passes. */
	snprintf(line, sizeof(line), "%s  ref.csv\n", good);
	write_text(sum, line);
	assert_int_equal(qst_reftable_load(csv, &t, err, sizeof(err)), QST_OK);
	qst_reftable_free(t);

	/* A .sha256 that is not a digest line is an error, not a pass. */
	write_text(sum, "not a digest\n");
	assert_int_equal(qst_reftable_load(csv, &t, err, sizeof(err)),
			 QST_ERR_DATA);
	cleanup_tmpdir("ref.csv");
}

#define GOOD_HEAD "# id: test-table\n# source: unit test\n" \
		  "param,site,sex,age_band,mean,sd,flagged\n"

static void expect_bad_csv(const char *text, int want_err, const char *line,
			   const char *why)
{
	make_tmpdir();
	char csv[256];
	snprintf(csv, sizeof(csv), "%s/bad.csv", tmpdir);
	write_text(csv, text);
	struct qst_reftable *t = NULL;
	char err[512] = "";
	assert_int_equal(qst_reftable_load(csv, &t, err, sizeof(err)),
			 want_err);
	assert_null(t);
	char where[300];
	snprintf(where, sizeof(where), "%s:%s:", csv, line);
	if (!strstr(err, where) || !strstr(err, why))
		fail_msg("error '%s' lacks '%s' or '%s'", err, where, why);
	cleanup_tmpdir("bad.csv");
}

static void test_reftable_malformed(void **state)
{
	(void)state;
	expect_bad_csv(GOOD_HEAD "CDT,hand,F,1,0.046,0.232,0\n"
				 "CDT,hand,F,2,0.07x,0.209,0\n",
		       QST_ERR_DATA, "5", "bad number '0.07x'");
	expect_bad_csv(GOOD_HEAD "XYZ,hand,F,1,0.046,0.232,0\n",
		       QST_ERR_DATA, "4", "unknown parameter 'XYZ'");
	expect_bad_csv(GOOD_HEAD "CDT,hand,F,1,0.046,0.232,0\n"
				 "cdt,hand,F,1,0.050,0.232,0\n",
		       QST_ERR_DATA, "5", "duplicate");
	expect_bad_csv(GOOD_HEAD "CDT,hand,F,1,0.046,0,0\n", QST_ERR_DATA,
		       "4", "sd 0 must be > 0");
	expect_bad_csv(GOOD_HEAD "CPT,hand,F,1,10,-1,0\n", QST_ERR_DATA, "4",
		       "must be > 0");
	expect_bad_csv(GOOD_HEAD "CDT,hand,F,6,0.046,0.232,0\n", QST_ERR_DATA,
		       "4", "bad age_band");
	expect_bad_csv(GOOD_HEAD "CDT,hand,X,1,0.046,0.232,0\n", QST_ERR_DATA,
		       "4", "bad sex");
	expect_bad_csv(GOOD_HEAD "CDT,hand,F,1,0.046,0.232\n", QST_ERR_DATA,
		       "4", "expected 7");
	expect_bad_csv(GOOD_HEAD "CDT,hand,F,1,0.046,0.232,0,9\n",
		       QST_ERR_DATA, "4", "expected 7");
	expect_bad_csv(GOOD_HEAD "CDT,hand,F,1,nan,0.232,0\n", QST_ERR_DATA,
		       "4", "bad number 'nan'");
	expect_bad_csv(GOOD_HEAD "CDT,hand,F,1,0.046,0.232,yes\n",
		       QST_ERR_DATA, "4", "bad flagged");
	expect_bad_csv("# id: x\nparam,site,sex,band,mean,sd,flagged\n",
		       QST_ERR_DATA, "2", "expected header");
	expect_bad_csv("param,site,sex,age_band,mean,sd,flagged\n"
		       "CDT,hand,F,1,0.046,0.232,0\n",
		       QST_ERR_DATA, "2", "no '# id");
}

static void test_reftable_zero_sd_allowed_unscored(void **state)
{
	(void)state;
	/* §4.2 has SD 0 for PHS and DMA cells; those never divide by it. */
	make_tmpdir();
	char csv[256];
	snprintf(csv, sizeof(csv), "%s/ok.csv", tmpdir);
	write_text(csv, GOOD_HEAD "PHS,hand,F,1,0.00,0.00,0\r\n"
				  "\n# a comment between rows\n"
				  "DMA,hand,M,5,-1.000,0.000,0\n");
	struct qst_reftable *t = NULL;
	char err[256];
	assert_int_equal(qst_reftable_load(csv, &t, err, sizeof(err)), QST_OK);
	assert_string_equal(qst_reftable_id(t), "test-table");
	assert_string_equal(qst_reftable_source(t), "unit test");
	qst_reftable_free(t);
	cleanup_tmpdir("ok.csv");

	assert_int_equal(qst_reftable_load("/nonexistent/x.csv", &t, err,
					   sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_non_null(strstr(err, "/nonexistent/x.csv"));
}

static void test_default_path(void **state)
{
	(void)state;
	const char *saved = getenv("QST_DATADIR");
	char keep[4096] = "";
	if (saved)
		snprintf(keep, sizeof(keep), "%s", saved);
	setenv("QST_DATADIR", "/opt/qst-data", 1);
	assert_string_equal(qst_reftable_default_path(),
			    "/opt/qst-data/dfns_reference_v1.csv");
	unsetenv("QST_DATADIR");
	assert_string_equal(qst_reftable_default_path(),
			    QST_SOURCE_DATADIR "/dfns_reference_v1.csv");
	if (saved)
		setenv("QST_DATADIR", keep, 1);
}

/* ------------------------------------------------ §3.10 test vectors */

static void expect_scored(const struct qst_result *r, int n, double tf,
			  double tf_tol, double mean, double sd, double z)
{
	assert_int_equal(r->n, n);
	assert_near(r->value_transformed, tf, tf_tol);
	assert_near(r->ref_mean, mean, 1e-12);
	assert_near(r->ref_sd, sd, 1e-12);
	assert_near(r->z, z, TOL_Z);
	assert_int_equal(r->abnormal, 0);
	assert_int_equal(r->flags & (QST_RES_NOT_DONE | QST_RES_NO_REFERENCE |
				     QST_RES_UNDEFINED | QST_RES_FEW_TRIALS),
			 0);
}

static void test_vector_cdt(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	add(&s, QST_CDT, -1, 30.8);
	add(&s, QST_CDT, -1, 30.5);
	add(&s, QST_CDT, -1, 31.0);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('F', 35, "hand"), r);
	assert_near(r[QST_CDT].value_raw, -1.233333, TOL_RAW);
	expect_scored(&r[QST_CDT], 3, 0.091080, TOL_LOG, 0.078, 0.209,
		      -0.0626);
	assert_string_equal(r[QST_CDT].stratum, "hand/F/30-39");
	for (int p = 0; p < QST_PARAM_COUNT; p++)
		if (p != QST_CDT)
			assert_true(r[p].flags & QST_RES_NOT_DONE);
}

static void test_vector_wdt(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	const double v[] = { 36.1, 37.0, 36.4 };
	add_many(&s, QST_WDT, 1, v, 3);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('M', 25, "foot"), r);
	assert_near(r[QST_WDT].value_raw, 4.5, 1e-9);
	expect_scored(&r[QST_WDT], 3, 0.653213, TOL_LOG, 0.645, 0.217,
		      -0.0378);
}

static void add_tsl_pair(struct trial_set *s, double warm, double cold,
			 int cold_quality)
{
	add(s, QST_TSL, 1, warm)->quality = QST_QUALITY_WARM;
	add(s, QST_TSL, -1, cold)->quality = cold_quality;
}

static void test_vector_tsl(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	add_tsl_pair(&s, 34.5, 30.0, QST_QUALITY_COLD);
	add_tsl_pair(&s, 35.0, 29.8, QST_QUALITY_COLD);
	add_tsl_pair(&s, 34.2, 30.4, QST_QUALITY_COLD);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('F', 35, "hand"), r);
	assert_near(r[QST_TSL].value_raw, 4.5, 1e-9);
	expect_scored(&r[QST_TSL], 3, 0.653213, TOL_LOG, 0.382, 0.258,
		      -1.0512);
	/* PHS 0 of 3 at the hand: normal, not z-scored. */
	assert_int_equal(r[QST_PHS].n, 3);
	assert_near(r[QST_PHS].value_raw, 0, 0);
	assert_true(isnan(r[QST_PHS].z));
	assert_int_equal(r[QST_PHS].abnormal, 0);
	assert_true(r[QST_PHS].flags & QST_RES_NOT_Z_SCORED);
}

static void test_tsl_cold_first(void **state)
{
	(void)state;
	/* Pairing follows trial order, whichever direction comes first. */
	struct trial_set s = { 0 };
	add(&s, QST_TSL, -1, 30.0);
	add(&s, QST_TSL, 1, 34.5);
	add(&s, QST_TSL, -1, 29.8);
	add(&s, QST_TSL, 1, 35.0);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('F', 35, "hand"), r);
	assert_int_equal(r[QST_TSL].n, 2);
	assert_near(r[QST_TSL].value_raw, (4.5 + 5.2) / 2, 1e-9);
	assert_true(r[QST_TSL].flags & QST_RES_FEW_TRIALS);
}

static void test_vector_cpt_hpt(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	const double cpt[] = { 12.0, 8.5, 10.1 };
	add_many(&s, QST_CPT, -1, cpt, 3);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('F', 45, "foot"), r);
	assert_near(r[QST_CPT].value_raw, 10.2, TOL_RAW);
	expect_scored(&r[QST_CPT], 3, 10.2, TOL_RAW, 12.16, 9.76, -0.2008);

	struct trial_set h = { 0 };
	const double hpt[] = { 44.1, 45.3, 44.6 };
	add_many(&h, QST_HPT, 1, hpt, 3);
	analyze(&h, subject('M', 35, "hand"), r);
	expect_scored(&r[QST_HPT], 3, 44.6667, TOL_RAW, 44.99, 2.86, 0.1131);
}

static void test_vector_mdt_mpt(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	const double mdt[] = { 0.5, 0.25, 0.5, 0.25, 1, 0.5, 0.5, 0.25, 0.5,
			       0.25 };
	add_many(&s, QST_MDT, 1, mdt, 10);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('M', 25, "hand"), r);
	assert_near(r[QST_MDT].value_raw, 0.40613, 1e-5);
	expect_scored(&r[QST_MDT], 10, -0.391339, TOL_LOG, -0.195, 0.355,
		      0.5531);
	/* 0.25 mN is the sensitive end of the set (§3.7). */
	assert_true(r[QST_MDT].flags & QST_RES_BOUNDED_VALUE);

	struct trial_set m = { 0 };
	const double mpt[] = { 64, 32, 128, 64, 64, 32, 128, 64, 64, 32 };
	add_many(&m, QST_MPT, 1, mpt, 10);
	analyze(&m, subject('F', 25, "hand"), r);
	assert_near(r[QST_MPT].value_raw, 59.71, 0.01);
	expect_scored(&r[QST_MPT], 10, 1.776077, TOL_LOG, 1.898, 0.361,
		      0.3377);
	assert_false(r[QST_MPT].flags & QST_RES_BOUNDED_VALUE);
}

static void test_vector_mps_dma(void **state)
{
	(void)state;
	static const double mps[35] = {
		0, 0, 0, 0, 0,     0, 0, 2, 0, 0,      0, 3, 0, 2, 0,
		5, 2, 4, 3, 5,     8, 10, 6, 12, 9,    15, 20, 18, 25, 15,
		30, 35, 40, 30, 25,
	};
	struct trial_set s = { 0 };
	add_many(&s, QST_MPS, 0, mps, 35);
	for (int i = 0; i < 15; i++)
		add(&s, QST_DMA, 0, 0.0);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('F', 25, "hand"), r);
	assert_near(r[QST_MPS].value_raw, 2.0007, 1e-4);
	expect_scored(&r[QST_MPS], 35, 0.301172, TOL_LOG, -0.095, 0.401,
		      0.9880);
	/* §10.3 item 3: all zeros give exactly -1. */
	assert_true(r[QST_DMA].value_transformed == -1.0);
	assert_true(isnan(r[QST_DMA].z));
	assert_int_equal(r[QST_DMA].abnormal, 0);
	assert_true(r[QST_DMA].flags & QST_RES_NOT_Z_SCORED);

	struct trial_set d = { 0 };
	for (int i = 0; i < 12; i++)
		add(&d, QST_DMA, 0, 0.0);
	add(&d, QST_DMA, 0, 5);
	add(&d, QST_DMA, 0, 10);
	add(&d, QST_DMA, 0, 3);
	analyze(&d, subject('F', 25, "hand"), r);
	assert_near(r[QST_DMA].value_transformed, -0.65312, 1e-5);
	assert_int_equal(r[QST_DMA].abnormal, 1); /* §3.6: any pain = gain */
}

static void test_vector_wur(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	const double single[] = { 10, 15, 10, 20, 10 };
	const double train[] = { 30, 35, 25, 40, 30 };
	for (int i = 0; i < 5; i++) {
		add(&s, QST_WUR, -1, single[i]);
		add(&s, QST_WUR, 1, train[i]);
	}
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('F', 25, "hand"), r);
	assert_near(r[QST_WUR].value_raw, 32.0 / 13.0, 1e-9);
	expect_scored(&r[QST_WUR], 10, 0.391207, TOL_LOG, 0.401, 0.258,
		      -0.0380);

	/* §3.4: a zero single mean is undefined, never substituted. */
	struct trial_set z = { 0 };
	for (int i = 0; i < 5; i++) {
		add(&z, QST_WUR, -1, 0);
		add(&z, QST_WUR, 1, train[i]);
	}
	analyze(&z, subject('F', 25, "hand"), r);
	assert_true(isnan(r[QST_WUR].value_raw));
	assert_true(isnan(r[QST_WUR].z));
	assert_true(r[QST_WUR].flags & QST_RES_UNDEFINED);
	assert_int_equal(r[QST_WUR].abnormal, 0);
}

static void test_vector_vdt_ppt(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	const double vdt[] = { 7.5, 7.0, 7.5 };
	add_many(&s, QST_VDT, 0, vdt, 3);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('M', 55, "foot"), r);
	expect_scored(&r[QST_VDT], 3, 7.3333, TOL_RAW, 6.54, 1.08, 0.7346);

	struct trial_set p = { 0 };
	const double ppt[] = { 450, 500, 480 };
	add_many(&p, QST_PPT, 1, ppt, 3);
	analyze(&p, subject('M', 25, "hand"), r);
	assert_near(r[QST_PPT].value_raw, 476.6667, TOL_RAW);
	expect_scored(&r[QST_PPT], 3, 2.678215, TOL_LOG, 2.623, 0.175,
		      -0.3155);
}

/* ------------------------------------------------------- special cases */

static void test_hpt_cutoff(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	add(&s, QST_HPT, 1, 47.0);
	add(&s, QST_HPT, 1, 50.0)->flags = QST_TRIAL_CUTOFF_REACHED;
	add(&s, QST_HPT, 1, 48.0);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('M', 35, "hand"), r);
	/* The cut-off trial counts with 50.0 (§2.3, §10.3 item 4). */
	assert_int_equal(r[QST_HPT].n, 3);
	assert_near(r[QST_HPT].value_raw, (47.0 + 50.0 + 48.0) / 3, 1e-9);
	assert_true(r[QST_HPT].flags & QST_RES_CUTOFF_REACHED);
	assert_true(r[QST_HPT].flags & QST_RES_BOUNDED_VALUE);
	assert_near(r[QST_HPT].z, -((145.0 / 3) - 44.99) / 2.86, 1e-9);
}

static void test_cdt_zero_mean(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	add(&s, QST_CDT, -1, 31.0);
	add(&s, QST_CDT, -1, 33.0);
	add(&s, QST_CDT, -1, 32.0);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('F', 35, "hand"), r);
	assert_near(r[QST_CDT].value_raw, 0.0, 1e-12);
	assert_true(isnan(r[QST_CDT].value_transformed));
	assert_true(isnan(r[QST_CDT].z));
	assert_true(r[QST_CDT].flags & QST_RES_UNDEFINED);
	assert_int_equal(r[QST_CDT].abnormal, 0);
	/* The reference is still recorded for the reader. */
	assert_near(r[QST_CDT].ref_mean, 0.078, 1e-12);
}

static void test_age_19_no_reference(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	const double v[] = { 30.8, 30.5, 31.0 };
	add_many(&s, QST_CDT, -1, v, 3);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('F', 19, "hand"), r);
	assert_true(r[QST_CDT].flags & QST_RES_NO_REFERENCE);
	assert_near(r[QST_CDT].value_transformed, 0.091080, TOL_LOG);
	assert_true(isnan(r[QST_CDT].ref_mean));
	assert_true(isnan(r[QST_CDT].ref_sd));
	assert_true(isnan(r[QST_CDT].z));
	assert_int_equal(r[QST_CDT].abnormal, 0);
	assert_string_equal(r[QST_CDT].stratum, "hand/F/<20");

	/* No table at all: the same. */
	struct qst_subject subj = subject('F', 35, "hand");
	assert_int_equal(qst_analyze_trials(s.v, s.n, &subj, NULL, r), QST_OK);
	assert_true(r[QST_CDT].flags & QST_RES_NO_REFERENCE);
	assert_true(isnan(r[QST_CDT].z));
}

static int phs_for(char sex, double age, const char *site, int paradoxical,
		   struct qst_result *out)
{
	struct trial_set s = { 0 };
	for (int i = 0; i < 3; i++)
		add_tsl_pair(&s, 34.5, 30.0,
			     i < paradoxical ? QST_QUALITY_HOT
					     : QST_QUALITY_COLD);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject(sex, age, site), r);
	*out = r[QST_PHS];
	return r[QST_PHS].abnormal;
}

static void test_phs_rule(void **state)
{
	(void)state;
	struct qst_result r;
	/* Hand F: 0 ± 0, so a single PHS is abnormal (§3.6). */
	assert_int_equal(phs_for('F', 35, "hand", 1, &r), 1);
	assert_near(r.value_raw, 1, 0);
	assert_near(r.ref_mean, 0, 0);
	assert_near(r.ref_sd, 0, 0);
	assert_true(isnan(r.z));
	assert_true(r.flags & QST_RES_NOT_Z_SCORED);
	assert_int_equal(phs_for('F', 35, "hand", 0, &r), 0);
	/* Foot M 50-59: 0.26 ± 0.79, limit 1.808: 1 normal, 2 abnormal. */
	assert_int_equal(phs_for('M', 55, "foot", 1, &r), 0);
	assert_int_equal(phs_for('M', 55, "foot", 2, &r), 1);
	/* Foot F ≥60 is a ⚠ cell: 0.35 ± 0.20, limit 0.742. */
	assert_int_equal(phs_for('F', 65, "foot", 1, &r), 1);
	assert_true(r.flags & QST_RES_REF_FLAGGED);
	/* Burning counts too; warm ramps never count. */
	struct trial_set s = { 0 };
	add(&s, QST_TSL, 1, 34.0)->quality = QST_QUALITY_BURNING;
	add(&s, QST_TSL, -1, 30.0)->quality = QST_QUALITY_BURNING;
	add(&s, QST_TSL, 1, 34.0)->quality = QST_QUALITY_HOT;
	add(&s, QST_TSL, -1, 30.0)->quality = QST_QUALITY_WARM;
	struct qst_result res[QST_PARAM_COUNT];
	analyze(&s, subject('M', 55, "foot"), res);
	assert_near(res[QST_PHS].value_raw, 2, 0);
	assert_int_equal(res[QST_PHS].n, 2);
	assert_true(res[QST_PHS].flags & QST_RES_FEW_TRIALS);
}

static void test_aborted_suspect_few(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	add(&s, QST_WDT, 1, 36.1);
	add(&s, QST_WDT, 1, 45.0)->flags = QST_TRIAL_ABORTED;
	add(&s, QST_WDT, 1, 37.0)->flags = QST_TRIAL_RESPONSE_SUSPECT;
	add(&s, QST_WDT, 1, 36.4);
	add(&s, QST_CPT, -1, 10.0);
	add(&s, QST_CPT, -1, NAN); /* no value: left out */
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('M', 25, "foot"), r);
	assert_int_equal(r[QST_WDT].n, 3);
	assert_near(r[QST_WDT].value_transformed, 0.653213, TOL_LOG);
	assert_true(r[QST_WDT].flags & QST_RES_RESPONSE_SUSPECT);
	assert_false(r[QST_WDT].flags & QST_RES_FEW_TRIALS);
	assert_int_equal(r[QST_CPT].n, 1);
	assert_true(r[QST_CPT].flags & QST_RES_FEW_TRIALS);
	assert_near(r[QST_CPT].value_raw, 10.0, 1e-12);
}

static void test_flagged_cell_and_abnormal(void **state)
{
	(void)state;
	/* MDT hand M ≥60 is ⚠; 0.25 mN everywhere is a clear gain. */
	struct trial_set s = { 0 };
	for (int i = 0; i < 10; i++)
		add(&s, QST_MDT, 1, 0.25);
	struct qst_result r[QST_PARAM_COUNT];
	analyze(&s, subject('M', 70, "hand"), r);
	assert_true(r[QST_MDT].flags & QST_RES_REF_FLAGGED);
	double want = -(log10(0.25) - -0.166) / 0.341;
	assert_near(r[QST_MDT].z, want, 1e-9);
	assert_int_equal(r[QST_MDT].abnormal, 0); /* z = +1.28 */
	/* HPT 38 °C at the hand (M 35): heat hyperalgesia, a gain. */
	struct trial_set h = { 0 };
	for (int i = 0; i < 3; i++)
		add(&h, QST_HPT, 1, 38.0);
	analyze(&h, subject('M', 35, "hand"), r);
	assert_true(r[QST_HPT].z > 1.96);
	assert_int_equal(r[QST_HPT].abnormal, 1);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct qst_result r[QST_PARAM_COUNT];
	struct qst_subject subj = subject('F', 35, "hand");
	assert_int_equal(qst_analyze_trials(NULL, 3, &subj, ref, r),
			 QST_ERR_ARG);
	assert_int_equal(qst_analyze_trials(NULL, 0, NULL, ref, r),
			 QST_ERR_ARG);
	assert_int_equal(qst_analyze_trials(NULL, 0, &subj, ref, r), QST_OK);
	for (int p = 0; p < QST_PARAM_COUNT; p++)
		assert_true(r[p].flags & QST_RES_NOT_DONE);
}

/* ----------------------------------------------------------- print */

__attribute__((noinline)) static char *
print_to_string(const struct qst_result *r,
		struct qst_subject subj,
		const struct qst_reftable *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	qst_results_print(f, r, &subj, t);
	fclose(f);
	return buf;
}

static void test_print(void **state)
{
	(void)state;
	struct trial_set s = { 0 };
	const double v[] = { 30.8, 30.5, 31.0 };
	add_many(&s, QST_CDT, -1, v, 3);
	add(&s, QST_HPT, 1, 38.0);
	add(&s, QST_HPT, 1, 50.0)->flags = QST_TRIAL_CUTOFF_REACHED;
	add_tsl_pair(&s, 34.5, 30.0, QST_QUALITY_HOT);
	struct qst_result r[QST_PARAM_COUNT];
	struct qst_subject subj = subject('F', 35, "hand");
	analyze(&s, subj, r);
	char *out = print_to_string(r, subj, ref);
	/* Header */
	assert_non_null(strstr(out, "sex F, age 35.0 years (band 30-39), "
				    "site hand"));
	assert_non_null(strstr(out, "Reference: dfns-s13s14-v1"));
	/* CDT row: n, raw °C at 1 decimal, log at 3, reference, z, verdict */
	const char *cdt = strstr(out, "\nCDT ");
	assert_non_null(cdt);
	const char *eol = strchr(cdt + 1, '\n');
	char row[256];
	snprintf(row, sizeof(row), "%.*s", (int)(eol - cdt - 1), cdt + 1);
	assert_non_null(strstr(row, " 3 "));
	assert_non_null(strstr(row, "-1.2 \u00b0C"));
	assert_non_null(strstr(row, "0.091"));
	assert_non_null(strstr(row, "0.078 \u00b1 0.209"));
	assert_non_null(strstr(row, "-0.06"));
	assert_non_null(strstr(row, "normal"));
	/* HPT: cut-off and few trials as words with footnotes. */
	assert_non_null(strstr(out, "cutoff bounded"));
	assert_non_null(strstr(out, "few-trials"));
	assert_non_null(strstr(out, "  cutoff: "));
	/* PHS 1 at the hand: abnormal, not z-scored. */
	const char *phs = strstr(out, "\nPHS ");
	assert_non_null(phs);
	assert_non_null(strstr(phs, "abnormal"));
	assert_non_null(strstr(out, "Not done: WDT CPT MDT MPT MPS DMA WUR "
				    "VDT PPT\n"));
	free(out);

	/* Flagged reference cell gets its footnote. */
	struct trial_set m = { 0 };
	for (int i = 0; i < 10; i++)
		add(&m, QST_MDT, 1, 1.0);
	subj = subject('M', 70, "hand");
	analyze(&m, subj, r);
	out = print_to_string(r, subj, ref);
	assert_non_null(strstr(out, "ref\u26a0"));
	assert_non_null(strstr(out, "\u26a0 the reference cell is marked"));
	free(out);

	/* No reference table. */
	subj = subject('F', 35, "hand");
	assert_int_equal(qst_analyze_trials(s.v, s.n, &subj, NULL, r), QST_OK);
	out = print_to_string(r, subj, NULL);
	assert_non_null(strstr(out, "Reference: none loaded"));
	assert_non_null(strstr(out, "no ref"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_param_tables),
		cmocka_unit_test(test_sign_map_through_zscore),
		cmocka_unit_test(test_abnormal),
		cmocka_unit_test(test_age_bands),
		cmocka_unit_test(test_reftable_identity),
		cmocka_unit_test(test_reftable_cells),
		cmocka_unit_test(test_reftable_coverage),
		cmocka_unit_test(test_reftable_checksum),
		cmocka_unit_test(test_reftable_malformed),
		cmocka_unit_test(test_reftable_zero_sd_allowed_unscored),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_vector_cdt),
		cmocka_unit_test(test_vector_wdt),
		cmocka_unit_test(test_vector_tsl),
		cmocka_unit_test(test_tsl_cold_first),
		cmocka_unit_test(test_vector_cpt_hpt),
		cmocka_unit_test(test_vector_mdt_mpt),
		cmocka_unit_test(test_vector_mps_dma),
		cmocka_unit_test(test_vector_wur),
		cmocka_unit_test(test_vector_vdt_ppt),
		cmocka_unit_test(test_hpt_cutoff),
		cmocka_unit_test(test_cdt_zero_mean),
		cmocka_unit_test(test_age_19_no_reference),
		cmocka_unit_test(test_phs_rule),
		cmocka_unit_test(test_aborted_suspect_few),
		cmocka_unit_test(test_flagged_cell_and_abnormal),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, load_default, free_default);
}
