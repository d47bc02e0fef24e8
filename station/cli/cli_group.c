/*
 * qst analyze --group: compare a group of analysed sessions with the
 * reference, parameter by parameter (Magerl 2010 "method B",
 * qst-domain.md §3.9). Reads each file's /analysis; it does not analyse.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qst_cli.h"
#include "qst_report.h"
#include "qst_session_file.h"

#define GROUP_ALPHA 0.05

static const char group_help[] =
	"usage: qst analyze --group FILE.h5 FILE.h5 ... [--csv]\n"
	"\n"
	"Compares a group of sessions with the reference table, one DFNS\n"
	"parameter at a time: the z-scores of all files that have one are\n"
	"tested against the reference (mean 0, SD 1) with the unpaired t-test\n"
	"of Magerl 2010, method B: t = mean / sqrt(SD^2/n + 1/n), df = 2(n-1),\n"
	"two-sided p. Verdict loss or gain at p < 0.05.\n"
	"Each file must have been analysed (`qst analyze FILE.h5`) first.\n"
	"PHS and DMA are not z-scored; their row counts abnormal files.\n"
	"\n"
	"  --csv   print param,n,mean_z,sd_z,t,df,p,verdict,n_abnormal as CSV\n";

struct group_row {
	size_t n;          /* files with a z (or, PHS/DMA, done) */
	size_t n_done;     /* files in which the test was done */
	size_t n_abnormal; /* files abnormal for this parameter */
	double mean, sd, t, p;
	int df;
	bool tested;
};

struct group_file {
	const char *path;
	struct qst_result res[QST_PARAM_COUNT];
	struct qst_analysis_meta meta;
};

static void mean_sd(const double *z, size_t n, double *mean, double *sd)
{
	double sum = 0.0, ss = 0.0;
	for (size_t i = 0; i < n; i++)
		sum += z[i];
	*mean = n ? sum / (double)n : NAN;
	for (size_t i = 0; i < n; i++)
		ss += (z[i] - *mean) * (z[i] - *mean);
	*sd = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN;
}

static void compute_row(const struct group_file *files, size_t nfiles,
			enum qst_param p, double *zbuf, struct group_row *row)
{
	memset(row, 0, sizeof(*row));
	row->mean = row->sd = row->t = row->p = NAN;
	bool z_scored = qst_param_info(p)->z_scored;

	for (size_t i = 0; i < nfiles; i++) {
		const struct qst_result *r = &files[i].res[p];
		if (r->flags & QST_RES_NOT_DONE)
			continue;
		row->n_done++;
		if (r->abnormal)
			row->n_abnormal++;
		if (!z_scored)
			row->n++;
		else if (isfinite(r->z))
			zbuf[row->n++] = r->z;
	}
	if (!z_scored)
		return;
	mean_sd(zbuf, row->n, &row->mean, &row->sd);
	row->tested = row->n >= 2 &&
		      qst_group_t(zbuf, row->n, &row->t, &row->df, &row->p) ==
			      QST_OK;
}

static void verdict(enum qst_param p, const struct group_row *row,
		    char *buf, size_t len)
{
	if (row->n_done == 0)
		snprintf(buf, len, "not done");
	else if (!qst_param_info(p)->z_scored)
		snprintf(buf, len, "not z-scored: abnormal in %zu of %zu",
			 row->n_abnormal, row->n);
	else if (!row->tested)
		snprintf(buf, len, row->n ? "too few (n < 2)" : "no z-scores");
	else if (row->p < GROUP_ALPHA)
		snprintf(buf, len, "%s", row->t < 0 ? "loss" : "gain");
	else
		snprintf(buf, len, "n.s.");
}

static void fmt(double v, const char *f, char *buf, size_t len)
{
	if (isfinite(v))
		snprintf(buf, len, f, v);
	else
		snprintf(buf, len, "-");
}

static void print_table(const struct group_file *files, size_t nfiles,
			const struct group_row *rows)
{
	printf("Group comparison with the reference (Magerl 2010 method B, "
	       "qst-domain 3.9): %zu files\n", nfiles);
	for (size_t i = 0; i < nfiles; i++) {
		char lg[192];
		qst_lg_describe(files[i].res, lg, sizeof(lg));
		printf("  %s  subject %s  %s/%c/%.0f  reference %s  %s\n",
		       files[i].path, files[i].meta.subject_id,
		       files[i].meta.subject.site,
		       files[i].meta.subject.sex ? files[i].meta.subject.sex
						  : '?',
		       files[i].meta.subject.age_years,
		       files[i].meta.ref_table_id[0]
			       ? files[i].meta.ref_table_id : "none", lg);
	}
	printf("\n%-5s %3s %7s %6s %7s %4s %8s  %s\n", "Param", "n", "mean z",
	       "SD z", "t", "df", "p", "Verdict");
	for (int p = 0; p < QST_PARAM_COUNT; p++) {
		const struct group_row *r = &rows[p];
		char m[16], s[16], t[16], df[16], pv[16], v[64];
		fmt(r->mean, "%+.2f", m, sizeof(m));
		fmt(r->sd, "%.2f", s, sizeof(s));
		fmt(r->tested ? r->t : NAN, "%+.3f", t, sizeof(t));
		fmt(r->tested ? r->df : NAN, "%.0f", df, sizeof(df));
		fmt(r->tested ? r->p : NAN, "%.4f", pv, sizeof(pv));
		verdict((enum qst_param)p, r, v, sizeof(v));
		printf("%-5s %3zu %7s %6s %7s %4s %8s  %s\n",
		       qst_param_name((enum qst_param)p), r->n, m, s, t, df, pv,
		       v);
	}
	printf("\nVerdict at p < %.2f, two-sided; a t-test needs z-scores "
	       "from at least 2 files.\n", GROUP_ALPHA);
}

static void print_csv(const struct group_row *rows)
{
	printf("param,n,mean_z,sd_z,t,df,p,verdict,n_abnormal\n");
	for (int p = 0; p < QST_PARAM_COUNT; p++) {
		const struct group_row *r = &rows[p];
		char m[32], s[32], t[32], df[16], pv[32], v[64];
		/* Unrounded: CSV is for further analysis. */
		fmt(r->mean, "%.17g", m, sizeof(m));
		fmt(r->sd, "%.17g", s, sizeof(s));
		fmt(r->tested ? r->t : NAN, "%.17g", t, sizeof(t));
		fmt(r->tested ? r->df : NAN, "%.0f", df, sizeof(df));
		fmt(r->tested ? r->p : NAN, "%.17g", pv, sizeof(pv));
		verdict((enum qst_param)p, r, v, sizeof(v));
		printf("%s,%zu,%s,%s,%s,%s,%s,%s,%zu\n",
		       qst_param_name((enum qst_param)p), r->n,
		       isfinite(r->mean) ? m : "", isfinite(r->sd) ? s : "",
		       r->tested ? t : "", r->tested ? df : "",
		       r->tested ? pv : "", v, r->n_abnormal);
	}
}

static const struct option group_options[] = {
	{ "group", no_argument, NULL, 'g' },
	{ "csv", no_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int qst_cli_analyze_group(int argc, char **argv)
{
	bool csv = false;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", group_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(group_help, stdout);
			return QST_EXIT_OK;
		}
		if (opt == '?') {
			qst_cli_error("unknown or incomplete option '%s' (see "
				      "qst analyze --group --help)",
				      argv[optind - 1]);
			return QST_EXIT_USAGE;
		}
		if (opt == 'c')
			csv = true;
	}
	size_t nfiles = (size_t)(argc - optind);
	if (nfiles < 2) {
		qst_cli_error("--group needs at least two session files");
		return QST_EXIT_USAGE;
	}
	struct group_file *files = calloc(nfiles, sizeof(*files));
	double *zbuf = calloc(nfiles, sizeof(*zbuf));
	int ret = files && zbuf ? QST_OK : QST_ERR_NOMEM;
	char err[512];
	for (size_t i = 0; i < nfiles && ret == QST_OK; i++) {
		files[i].path = argv[optind + (int)i];
		ret = qst_session_load_analysis(files[i].path, files[i].res,
						&files[i].meta, err,
						sizeof(err));
		if (ret < 0)
			qst_cli_error("%s", err);
	}
	for (size_t i = 1; i < nfiles && ret == QST_OK; i++)
		if (strcmp(files[i].meta.ref_table_id,
			   files[0].meta.ref_table_id) != 0)
			qst_cli_error("warning: %s was analysed with reference "
				      "'%s', %s with '%s'; z-scores may not be "
				      "comparable", files[i].path,
				      files[i].meta.ref_table_id, files[0].path,
				      files[0].meta.ref_table_id);
	if (ret == QST_OK) {
		struct group_row rows[QST_PARAM_COUNT];
		for (int p = 0; p < QST_PARAM_COUNT; p++)
			compute_row(files, nfiles, (enum qst_param)p, zbuf,
				    &rows[p]);
		if (csv)
			print_csv(rows);
		else
			print_table(files, nfiles, rows);
	}
	free(zbuf);
	free(files);
	return qst_cli_exit_code(ret);
}
