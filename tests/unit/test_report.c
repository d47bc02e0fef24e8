/*
 * Loss/gain coding (qst-domain.md §5.1), the Magerl group test (§3.9,
 * §10.3 item 8), the report writers (SVG, CSV, JSON) and reading /analysis
 * back from a session file.
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

#include "qst_report.h"
#include "qst_session_file.h"

static void assert_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.12g, want %.12g (tol %g)", got, want, tol);
}

/* All 13 rows not done, as qst_analyze_trials leaves an empty session. */
static void blank(struct qst_result res[QST_PARAM_COUNT])
{
	memset(res, 0, sizeof(*res) * QST_PARAM_COUNT);
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		struct qst_result *r = &res[i];
		r->param = (enum qst_param)i;
		r->value_raw = r->value_transformed = NAN;
		r->ref_mean = r->ref_sd = r->z = NAN;
		r->flags = QST_RES_NOT_DONE;
		if (!qst_param_info(r->param)->z_scored)
			r->flags |= QST_RES_NOT_Z_SCORED;
	}
}

static void set_z(struct qst_result res[QST_PARAM_COUNT], enum qst_param p,
		  double z)
{
	struct qst_result *r = &res[p];
	r->flags &= ~(unsigned)QST_RES_NOT_DONE;
	r->n = 3;
	r->z = z;
	r->value_raw = r->value_transformed = 1.0;
	r->ref_mean = 0.5;
	r->ref_sd = 0.25;
	r->abnormal = qst_abnormal(z);
	snprintf(r->stratum, sizeof(r->stratum), "hand/F/30-39");
}

/* PHS or DMA done; abnormal = any pain / PHS (§3.6). */
static void set_verdict(struct qst_result res[QST_PARAM_COUNT],
			enum qst_param p, int abnormal)
{
	struct qst_result *r = &res[p];
	r->flags &= ~(unsigned)QST_RES_NOT_DONE;
	r->n = p == QST_DMA ? 15 : 3;
	r->value_raw = abnormal ? 2.0 : 0.0;
	r->abnormal = abnormal;
}

static void all_normal(struct qst_result res[QST_PARAM_COUNT])
{
	blank(res);
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		if (qst_param_info((enum qst_param)i)->z_scored)
			set_z(res, (enum qst_param)i, 0.3);
		else
			set_verdict(res, (enum qst_param)i, 0);
	}
}

/* ------------------------------------------------------------ LG code */

static void test_lg_worked_example(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT];
	int loss = -1, gain = -1;
	char code[8];

	/* §5.1 worked example. */
	blank(res);
	set_z(res, QST_CDT, -2.3);
	set_z(res, QST_MDT, -0.5);
	set_z(res, QST_VDT, -2.1);
	set_z(res, QST_HPT, +0.4);
	set_z(res, QST_PPT, +2.2);
	int missing = qst_lg_code(res, &loss, &gain, code);
	assert_string_equal(code, "L3G2");
	assert_int_equal(loss, 3);
	assert_int_equal(gain, 2);
	/* WDT, CPT, MPT, MPS, DMA were not done. */
	assert_int_equal(missing, 5);
	assert_true(qst_lg_param_missing(res, QST_WDT));
	assert_true(qst_lg_param_missing(res, QST_DMA));
	assert_false(qst_lg_param_missing(res, QST_CDT));
	/* TSL, PHS, WUR never enter the code. */
	assert_false(qst_lg_param_missing(res, QST_TSL));
	assert_false(qst_lg_param_missing(res, QST_PHS));
	assert_false(qst_lg_param_missing(res, QST_WUR));

	char desc[192];
	assert_int_equal(qst_lg_describe(res, desc, sizeof(desc)), 5);
	assert_string_equal(desc, "L3G2 (WDT, CPT, MPT, MPS, DMA not done)");
}

static void test_lg_dma_any_pain(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT];
	int loss, gain;
	char code[8];

	all_normal(res);
	set_verdict(res, QST_DMA, 1);
	assert_int_equal(qst_lg_code(res, &loss, &gain, code), 0);
	assert_string_equal(code, "L0G2");
	assert_int_equal(gain, 2);
	/* An undefined DMA (bad rating) cannot say anything. */
	res[QST_DMA].flags |= QST_RES_UNDEFINED;
	assert_int_equal(qst_lg_code(res, &loss, &gain, code), 1);
	assert_string_equal(code, "L0G0");
}

static void test_lg_nothing_abnormal(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT];
	int loss = -1, gain = -1;
	char code[8], desc[64];

	all_normal(res);
	assert_int_equal(qst_lg_code(res, &loss, &gain, code), 0);
	assert_string_equal(code, "L0G0");
	assert_int_equal(loss, 0);
	assert_int_equal(gain, 0);
	assert_int_equal(qst_lg_describe(res, desc, sizeof(desc)), 0);
	assert_string_equal(desc, "L0G0");
}

static void test_lg_rules(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT];
	int loss, gain;
	char code[8], desc[192];

	/* |z| > 1.96 strictly (§3.5). */
	all_normal(res);
	set_z(res, QST_WDT, -1.96);
	qst_lg_code(res, &loss, &gain, code);
	assert_string_equal(code, "L0G0");
	set_z(res, QST_WDT, -1.9600001);
	qst_lg_code(res, &loss, &gain, code);
	assert_string_equal(code, "L1G0");

	/* Hypoalgesia, gain in detection, TSL/PHS/WUR: not coded (§5.1). */
	all_normal(res);
	set_z(res, QST_CPT, -3.0);
	set_z(res, QST_PPT, -3.0);
	set_z(res, QST_CDT, +3.0);
	set_z(res, QST_TSL, -3.0);
	set_z(res, QST_WUR, +3.0);
	set_verdict(res, QST_PHS, 1);
	qst_lg_code(res, &loss, &gain, code);
	assert_string_equal(code, "L0G0");

	/* Each class alone, and all four. */
	all_normal(res);
	set_z(res, QST_HPT, 2.5);
	qst_lg_code(res, &loss, &gain, code);
	assert_string_equal(code, "L0G1");
	set_z(res, QST_MPS, 2.5);
	qst_lg_code(res, &loss, &gain, code);
	assert_string_equal(code, "L0G3");
	set_z(res, QST_MDT, -2.5);
	qst_lg_code(res, &loss, &gain, code);
	assert_string_equal(code, "L2G3");
	set_z(res, QST_CDT, -2.5);
	qst_lg_code(res, &loss, &gain, code);
	assert_string_equal(code, "L3G3");

	/* Not done vs. done without a z-score, as the printout says it. */
	all_normal(res);
	set_z(res, QST_CDT, -2.5);
	res[QST_MDT].flags |= QST_RES_NOT_DONE;
	res[QST_VDT].flags |= QST_RES_NOT_DONE;
	res[QST_CPT].z = NAN;
	res[QST_CPT].flags |= QST_RES_NO_REFERENCE;
	assert_int_equal(qst_lg_describe(res, desc, sizeof(desc)), 3);
	assert_string_equal(desc, "L1G0 (MDT, VDT not done; CPT no z-score)");
	qst_lg_missing_names(res, desc, sizeof(desc));
	assert_string_equal(desc, "CPT MDT VDT");

	assert_int_equal(qst_lg_code(NULL, &loss, &gain, code), QST_ERR_ARG);
	assert_int_equal(qst_lg_code(res, NULL, &gain, code), QST_ERR_ARG);
}

/* ------------------------------------------------------- group t-test */

static void test_group_t_vector(void **state)
{
	(void)state;
	double t, p;
	int df;

	/* §3.9 / §10.3 item 8. */
	assert_int_equal(qst_group_t_stats(-1.2, 1.1, 20, &t, &df, &p),
			 QST_OK);
	assert_near(t, -3.609941, 1e-6);
	assert_int_equal(df, 38);
	/* Independent value: 2 x the t(38) tail integrated numerically
	 * (composite Simpson, 2e5 intervals, Python stdlib only) gave
	 * 8.8121576321e-4; the two integration routes agreed to 1e-14. */
	assert_near(p, 8.8121576321e-4, 1e-12);
}

static void test_group_t_from_values(void **state)
{
	(void)state;
	const double z[] = { -2.1, -0.4, -1.5, 0.2, -1.9, -0.8 };
	double t, p, t2, p2;
	int df, df2;

	/* mean -1.0833.., SD by hand 0.905..; same as from the stats. */
	double mean = (-2.1 - 0.4 - 1.5 + 0.2 - 1.9 - 0.8) / 6.0, ss = 0.0;
	for (int i = 0; i < 6; i++)
		ss += (z[i] - mean) * (z[i] - mean);
	assert_int_equal(qst_group_t(z, 6, &t, &df, &p), QST_OK);
	assert_int_equal(qst_group_t_stats(mean, sqrt(ss / 5.0), 6, &t2, &df2,
					   &p2), QST_OK);
	assert_near(t, t2, 1e-12);
	assert_near(p, p2, 1e-12);
	assert_int_equal(df, 10);
	assert_near(t, mean / sqrt((ss / 5.0) / 6.0 + 1.0 / 6.0), 1e-12);

	/* Bad input is refused, not computed. */
	const double bad[] = { 0.5, NAN };
	assert_int_equal(qst_group_t(bad, 2, &t, &df, &p), QST_ERR_ARG);
	assert_int_equal(qst_group_t(z, 1, &t, &df, &p), QST_ERR_ARG);
	assert_int_equal(qst_group_t(NULL, 3, &t, &df, &p), QST_ERR_ARG);
	assert_int_equal(qst_group_t_stats(0, -1, 5, &t, &df, &p),
			 QST_ERR_ARG);
}

static void test_t_distribution(void **state)
{
	(void)state;
	/* Closed forms: df 1 (Cauchy) p = 1 - 2/pi atan|t|; df 2
	 * p = 1 - |t|/sqrt(2 + t^2). */
	const double ts[] = { 0.0, 0.3, 1.0, 2.5, 12.0, -4.0 };
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		double a = fabs(ts[i]);
		assert_near(qst_t_two_sided_p(ts[i], 1),
			    1 - 2 / M_PI * atan(a), 1e-13);
		assert_near(qst_t_two_sided_p(ts[i], 2),
			    1 - a / sqrt(2 + a * a), 1e-13);
	}
	/* Numerically integrated tails (see test_group_t_vector). */
	assert_near(qst_t_two_sided_p(2.0, 5), 0.10193947882985727, 1e-12);
	assert_near(qst_t_two_sided_p(0.5, 3), 0.6514479648481278, 1e-12);
	assert_near(qst_t_two_sided_p(-1.0, 10), 0.3408931323020425, 1e-12);
	assert_near(qst_t_two_sided_p(INFINITY, 10), 0.0, 0);
	assert_true(isnan(qst_t_two_sided_p(NAN, 10)));
	assert_true(isnan(qst_t_two_sided_p(1.0, 0)));

	/* I_x(a, 1) = x^a, I_x(1, b) = 1 - (1 - x)^b, I_1/2(a, a) = 1/2. */
	assert_near(qst_betai(3.5, 1, 0.7), pow(0.7, 3.5), 1e-13);
	assert_near(qst_betai(1, 4.2, 0.3), 1 - pow(0.7, 4.2), 1e-13);
	assert_near(qst_betai(50, 50, 0.5), 0.5, 1e-12);
	assert_near(qst_betai(2, 3, 0.0), 0.0, 0);
	assert_near(qst_betai(2, 3, 1.0), 1.0, 0);
	assert_true(isnan(qst_betai(2, 3, 1.5)));
	assert_true(isnan(qst_betai(-1, 3, 0.5)));
}

/* ------------------------------------------------------------ writers */

static char *capture(int (*fn)(FILE *, const struct qst_result *,
			       const struct qst_analysis_meta *),
		     const struct qst_result *res,
		     const struct qst_analysis_meta *meta, int want_rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(fn(f, res, meta), want_rc);
	fclose(f);
	return buf;
}

static void sample_meta(struct qst_analysis_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->subject.sex = 'F';
	m->subject.age_years = 35;
	snprintf(m->subject.site, sizeof(m->subject.site), "hand");
	snprintf(m->side, sizeof(m->side), "left");
	/* Markup, quotes and a broken UTF-8 byte must not break XML/JSON. */
	snprintf(m->subject_id, sizeof(m->subject_id), "SUBJ<01>&\"x'\xff");
	snprintf(m->protocol_name, sizeof(m->protocol_name), "DFNS thermal");
	snprintf(m->session_start_utc, sizeof(m->session_start_utc),
		 "2024-03-05T09:41:12.000001Z");
	snprintf(m->ref_table_id, sizeof(m->ref_table_id), "dfns-test-v1");
	snprintf(m->ref_table_sha256, sizeof(m->ref_table_sha256),
		 "0123456789abcdef0123456789abcdef");
	snprintf(m->formula_version, sizeof(m->formula_version), "1.0");
}

static void example_profile(struct qst_result res[QST_PARAM_COUNT])
{
	blank(res);
	set_z(res, QST_CDT, -2.3);
	set_z(res, QST_MDT, -0.5);
	set_z(res, QST_VDT, -7.25);  /* beyond the plotted ±6 */
	set_z(res, QST_HPT, +0.4);
	set_z(res, QST_PPT, +2.2);
	set_verdict(res, QST_PHS, 1);
	set_verdict(res, QST_DMA, 0);
	set_z(res, QST_CPT, NAN);
	res[QST_CPT].flags |= QST_RES_NO_REFERENCE;
}

static void test_svg(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT];
	struct qst_analysis_meta meta;

	example_profile(res);
	sample_meta(&meta);
	char *svg = capture(qst_report_svg, res, &meta, QST_OK);

	assert_memory_equal(svg, "<?xml version=\"1.0\"", 19);
	assert_non_null(strstr(svg, "version=\"1.1\""));
	/* One mark per parameter, in DFNS order. */
	const char *at = svg;
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		char want[48];
		snprintf(want, sizeof(want), "<g class=\"mark param-%s ",
			 qst_param_name((enum qst_param)i));
		const char *hit = strstr(at, want);
		if (!hit)
			fail_msg("no mark for %s after the previous one",
				 qst_param_name((enum qst_param)i));
		at = hit + 1;
	}
	assert_non_null(strstr(svg, "class=\"mark param-CDT loss\""));
	assert_non_null(strstr(svg, "class=\"mark param-PPT gain\""));
	assert_non_null(strstr(svg, "class=\"mark param-MDT normal\""));
	assert_non_null(strstr(svg, "class=\"mark param-WDT not-done\""));
	assert_non_null(strstr(svg, "class=\"mark param-CPT no-z\""));
	assert_non_null(strstr(svg, "class=\"mark param-PHS gain verdict\""));
	assert_non_null(strstr(svg, "class=\"mark param-DMA normal verdict\""));
	assert_non_null(strstr(svg, ">n.d.</text>"));
	/* The clipped VDT keeps its true value as the label. */
	assert_non_null(strstr(svg, ">\u22127.25</text>"));
	assert_non_null(strstr(svg, ">L3G2</text>"));
	/* Escaped, with the bad byte replaced. */
	assert_non_null(strstr(svg, "SUBJ&lt;01&gt;&amp;&quot;x&apos;"
				    "\xef\xbf\xbd"));
	assert_null(strstr(svg, "SUBJ<01"));
	assert_non_null(strstr(svg, "dfns-test-v1"));
	assert_non_null(strstr(svg, "2024-03-05 09:41 UTC"));
	assert_non_null(strstr(svg, "</svg>\n"));
	free(svg);

	/* Rows out of order are refused rather than mislabelled. */
	res[3].param = QST_CDT;
	svg = capture(qst_report_svg, res, &meta, QST_ERR_ARG);
	free(svg);
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_csv(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT];
	struct qst_analysis_meta meta;

	example_profile(res);
	sample_meta(&meta);
	res[QST_CDT].z = -2.3000000000000003; /* unrounded on output */
	snprintf(res[QST_HPT].stratum, sizeof(res[0].stratum), "a,b");
	char *csv = capture(qst_report_csv, res, &meta, QST_OK);
	assert_int_equal(count_lines(csv), 1 + QST_PARAM_COUNT);
	const char *header = "param,n,value_raw,unit,value_transformed,"
			     "ref_mean,ref_sd,z,abnormal,flags,stratum,"
			     "ref_table_id\n";
	assert_memory_equal(csv, header, strlen(header));
	assert_non_null(strstr(csv, "\nCDT,3,1,degC,1,0.5,0.25,"
				    "-2.3000000000000003,-1,0,hand/F/30-39,"
				    "dfns-test-v1\n"));
	/* Not done: NaN is an empty field; flag 0x40 | 0 = 64. */
	assert_non_null(strstr(csv, "\nWDT,0,,degC,,,,,0,64,,dfns-test-v1\n"));
	assert_non_null(strstr(csv, ",\"a,b\",")); /* quoted */
	free(csv);
}

static void test_json(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT];
	struct qst_analysis_meta meta;

	example_profile(res);
	sample_meta(&meta);
	char *js = capture(qst_report_json, res, &meta, QST_OK);
	assert_non_null(strstr(js, "\"lg_code\": \"L3G2\""));
	assert_non_null(strstr(js, "\"lg_loss\": 3"));
	assert_non_null(strstr(js, "\"lg_complete\": false"));
	assert_non_null(strstr(js, "\"subject_id\": \"SUBJ<01>&\\\"x'"
				   "\\ufffd\""));
	assert_non_null(strstr(js, "{\"param\": \"WDT\", \"n\": 0, "
				   "\"value_raw\": null"));
	assert_non_null(strstr(js, "\"flag_names\": [\"not_done\"]"));
	assert_non_null(strstr(js, "\"verdict\": \"not done\""));
	assert_null(strstr(js, "nan"));
	free(js);
}

static void test_flag_names(void **state)
{
	(void)state;
	size_t n;
	const char *const *names = qst_result_flag_names(&n);
	assert_int_equal(n, 9);
	assert_string_equal(names[6], "not_done");
	assert_string_equal(qst_result_flag_name(6), "not_done");
	assert_null(qst_result_flag_name(9));
	/* Bit i of QST_RES_* is names[i]. */
	assert_int_equal(QST_RES_NOT_DONE, 1u << 6);
	assert_int_equal(QST_RES_RESPONSE_SUSPECT, 1u << 8);
}

/* ------------------------------------------------ /analysis read-back */

static char h5path[64];

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

/* The root and /metadata a recorded session has (docs/hdf5-schema.md). */
static void make_session_file(void)
{
	snprintf(h5path, sizeof(h5path), "/tmp/test_report.%d.h5",
		 (int)getpid());
	hid_t f = H5Fcreate(h5path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f >= 0);
	attr_s(f, "schema_name", "qst-session");
	attr_s(f, "schema_version", "1.0.0");
	hid_t g = H5Gcreate2(f, "metadata", H5P_DEFAULT, H5P_DEFAULT,
			     H5P_DEFAULT);
	attr_s(g, "subject_id", "SUBJ07");
	attr_s(g, "sex", "M");
	attr_s(g, "site", "foot");
	attr_s(g, "side", "right");
	attr_s(g, "protocol_name", "DFNS thermal QST");
	attr_s(g, "session_start_utc", "2024-03-05T09:41:12.000001Z");
	int32_t age = 47;
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(g, "age_years", H5T_STD_I32LE, sp, H5P_DEFAULT,
			     H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_INT32, &age);
	H5Aclose(a);
	H5Sclose(sp);
	H5Gclose(g);
	H5Fclose(f);
}

static int read_int_attr(const char *path, const char *obj, const char *name)
{
	int32_t v = -99;
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
	H5Aread(a, H5T_NATIVE_INT32, &v);
	H5Aclose(a);
	H5Fclose(f);
	return v;
}

static void test_load_analysis(void **state)
{
	(void)state;
	struct qst_result res[QST_PARAM_COUNT], back[QST_PARAM_COUNT];
	struct qst_analysis_meta meta;
	char err[512];

	make_session_file();
	/* Not analysed yet: the message tells the user what to do. */
	assert_int_equal(qst_session_load_analysis(h5path, back, &meta, err,
						   sizeof(err)),
			 QST_ERR_NOTFOUND);
	assert_non_null(strstr(err, "qst analyze"));

	example_profile(res);
	assert_int_equal(qst_session_write_analysis(h5path, res, NULL, err,
						    sizeof(err)), QST_OK);
	assert_int_equal(read_int_attr(h5path, "analysis", "lg_loss"), 3);
	assert_int_equal(read_int_attr(h5path, "analysis", "lg_gain"), 2);

	assert_int_equal(qst_session_load_analysis(h5path, back, &meta, err,
						   sizeof(err)), QST_OK);
	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		assert_int_equal(back[i].param, i);
		assert_int_equal(back[i].n, res[i].n);
		assert_int_equal(back[i].abnormal, res[i].abnormal);
		assert_int_equal(back[i].flags, res[i].flags);
		assert_string_equal(back[i].stratum, res[i].stratum);
		if (isnan(res[i].z))
			assert_true(isnan(back[i].z));
		else
			assert_true(back[i].z == res[i].z);
	}
	assert_string_equal(meta.subject_id, "SUBJ07");
	assert_int_equal(meta.subject.sex, 'M');
	assert_near(meta.subject.age_years, 47, 0);
	assert_string_equal(meta.subject.site, "foot");
	assert_string_equal(meta.side, "right");
	assert_string_equal(meta.ref_table_id, "");
	assert_string_equal(meta.formula_version, "1.0");
	int loss, gain;
	char code[8];
	qst_lg_code(back, &loss, &gain, code);
	assert_string_equal(code, "L3G2");

	/* A row out of DFNS order is refused, naming the row. */
	hid_t f = H5Fopen(h5path, H5F_ACC_RDWR, H5P_DEFAULT);
	hid_t ds = H5Dopen2(f, "analysis/param_code", H5P_DEFAULT);
	int32_t codes[QST_PARAM_COUNT];
	H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, codes);
	codes[2] = 5;
	H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, codes);
	H5Dclose(ds);
	H5Fclose(f);
	assert_int_equal(qst_session_load_analysis(h5path, back, NULL, err,
						   sizeof(err)),
			 QST_ERR_DATA);
	assert_non_null(strstr(err, "row 2"));

	/* Not a session file at all. */
	assert_int_equal(qst_session_load_analysis("/nonexistent.h5", back,
						   NULL, err, sizeof(err)),
			 QST_ERR_NOTFOUND);
	unlink(h5path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lg_worked_example),
		cmocka_unit_test(test_lg_dma_any_pain),
		cmocka_unit_test(test_lg_nothing_abnormal),
		cmocka_unit_test(test_lg_rules),
		cmocka_unit_test(test_group_t_vector),
		cmocka_unit_test(test_group_t_from_values),
		cmocka_unit_test(test_t_distribution),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_flag_names),
		cmocka_unit_test(test_load_analysis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
