/*
 * qst report: the sensory profile of an analysed session (SVG), and its
 * table as text, CSV or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qst_cli.h"
#include "qst_report.h"
#include "qst_session_file.h"

static const char report_help[] =
	"usage: qst report FILE.h5 [--svg OUT.svg] [--overwrite] [--csv | --json]\n"
	"\n"
	"Reads the /analysis group that `qst analyze` wrote and draws the\n"
	"sensory profile: z per DFNS parameter, the +/-1.96 normal band,\n"
	"loss and gain marks and the loss/gain code (docs/report.md). The SVG\n"
	"goes to OUT.svg, by default FILE.profile.svg next to FILE.h5. A file\n"
	"holding a paradigm (TSP, CPM, offset analgesia) also gets one page per\n"
	"paradigm, OUT-tsp.svg, OUT-cpm.svg, OUT-oa.svg, and its indices are\n"
	"printed after the table (CSV: a second table after a blank line;\n"
	"JSON: \"indices\").\n"
	"\n"
	"  --svg OUT.svg  where to write the profile (mode 0600, like the\n"
	"                 session file it shows)\n"
	"  --overwrite    replace OUT.svg if it exists (never done without)\n"
	"  --csv          print the result table as CSV on stdout\n"
	"  --json         print metadata, loss/gain code and rows as JSON\n"
	"Without --csv or --json the operator's table is printed.\n";

static const struct option report_options[] = {
	{ "svg", required_argument, NULL, 's' },
	{ "csv", no_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "overwrite", no_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* FILE.h5 → FILE.profile.svg; any other name gets .profile.svg added. */
static char *default_svg_name(const char *h5)
{
	size_t n = strlen(h5);
	char *out = malloc(n + sizeof(".profile.svg"));
	if (!out)
		return NULL;
	memcpy(out, h5, n + 1);
	if (n > 3 && !strcmp(out + n - 3, ".h5"))
		out[n - 3] = '\0';
	strcat(out, ".profile.svg");
	return out;
}

/*
 * Write-then-rename: the profile is drawn into a private temp file beside
 * path and takes its name only when complete, so a failure leaves no
 * partial SVG and an existing file (or a symlink planted there) is never
 * replaced without --overwrite. Mode 0600: the profile carries the
 * subject's pseudonym and results, as private as the session file.
 */
typedef int (*svg_draw_fn)(FILE *f, const void *ctx);

static int write_svg(const char *path, bool overwrite, svg_draw_fn draw,
		     const void *ctx)
{
	if (!overwrite && qst_path_taken(path)) {
		qst_cli_error("%s exists; refusing to overwrite it (add "
			      "--overwrite)", path);
		return QST_ERR_EXISTS;
	}
	char *tmp;
	int fd = qst_temp_beside(path, &tmp);
	if (fd < 0) {
		qst_cli_error("cannot write %s: %s", path, strerror(errno));
		return fd;
	}
	FILE *f = fdopen(fd, "w");
	int ret = f ? draw(f, ctx) : QST_ERR_IO;
	if (f && fflush(f) == 0 && fsync(fd) != 0 && ret == QST_OK)
		ret = QST_ERR_IO;
	if (f ? fclose(f) != 0 : close(fd) != 0)
		ret = ret == QST_OK ? QST_ERR_IO : ret;
	if (ret == QST_OK)
		ret = qst_publish_file(tmp, path, overwrite);
	if (ret == QST_ERR_EXISTS)
		qst_cli_error("%s exists; refusing to overwrite it (add "
			      "--overwrite)", path);
	else if (ret < 0)
		qst_cli_error("cannot write %s: %s", path, qst_strerror(ret));
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

struct profile_ctx {
	const struct qst_result *res;
	const struct qst_analysis_meta *meta;
};

static int draw_profile(FILE *f, const void *ctx)
{
	const struct profile_ctx *p = ctx;
	return qst_report_svg(f, p->res, p->meta);
}

struct paradigm_ctx {
	enum qst_paradigm p;
	const struct qst_paradigms *pd;
	const struct qst_streams *s;
	const char *title;
};

static int draw_paradigm(FILE *f, const void *ctx)
{
	const struct paradigm_ctx *c = ctx;
	return qst_paradigm_svg(f, c->p, c->pd, c->s, c->title);
}

/* OUT.svg → OUT-tsp.svg (docs/report.md). */
static char *paradigm_svg_name(const char *svg, enum qst_paradigm p)
{
	size_t n = strlen(svg);
	const char *name = qst_paradigm_name(p);
	char *out = malloc(n + strlen(name) + sizeof("-.svg"));
	if (!out)
		return NULL;
	memcpy(out, svg, n + 1);
	if (n > 4 && !strcmp(out + n - 4, ".svg"))
		out[n - 4] = '\0';
	strcat(out, "-");
	strcat(out, name);
	strcat(out, ".svg");
	return out;
}

static bool has_paradigm(const struct qst_paradigms *pd, enum qst_paradigm p)
{
	for (size_t i = 0; i < pd->n_inst; i++)
		if (pd->inst[i].paradigm == p)
			return true;
	return false;
}

/* One page per paradigm the file holds, named after the profile. */
static int write_paradigm_svgs(const char *svg, bool overwrite,
			       const struct qst_paradigms *pd,
			       const struct qst_streams *s,
			       const struct qst_analysis_meta *meta,
			       bool quiet)
{
	int ret = QST_OK;
	for (int p = 0; p < QST_PD_COUNT && ret == QST_OK; p++) {
		if (!has_paradigm(pd, (enum qst_paradigm)p))
			continue;
		char *name = paradigm_svg_name(svg, (enum qst_paradigm)p);
		if (!name)
			return QST_ERR_NOMEM;
		struct paradigm_ctx c = { (enum qst_paradigm)p, pd, s,
					  meta->subject_id };
		ret = write_svg(name, overwrite, draw_paradigm, &c);
		if (ret == QST_OK)
			fprintf(quiet ? stderr : stdout, "Paradigm %s: %s\n",
				qst_paradigm_name((enum qst_paradigm)p), name);
		free(name);
	}
	return ret;
}

/* Paradigms of the file, recomputed from its events as analyze does;
 * *pd NULL when the file cannot be read (reported). */
static int load_paradigms(const char *path, struct qst_streams **s,
			  struct qst_paradigms **pd)
{
	char err[512];
	*pd = NULL;
	int ret = qst_streams_load(path, s, err, sizeof(err));
	if (ret < 0) {
		qst_cli_error("%s", err);
		return ret;
	}
	ret = qst_paradigms_compute(*s, pd);
	if (ret < 0)
		qst_cli_error("%s: paradigm indices: %s", path,
			      qst_strerror(ret));
	return ret;
}

struct report_args {
	const char *file, *svg;
	bool csv, json, overwrite;
};

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct report_args *a)
{
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", report_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(report_help, stdout);
			return QST_EXIT_OK;
		case 's':
			a->svg = optarg;
			break;
		case 'c':
			a->csv = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'w':
			a->overwrite = true;
			break;
		default:
			qst_cli_error("unknown or incomplete option '%s' (see "
				      "qst report --help)", argv[optind - 1]);
			return QST_EXIT_USAGE;
		}
	}
	if (a->csv && a->json) {
		qst_cli_error("--csv and --json both print to stdout; pick one");
		return QST_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		qst_cli_error("expected exactly one session file (see qst report "
			      "--help)");
		return QST_EXIT_USAGE;
	}
	a->file = argv[optind];
	return -1;
}

int qst_cli_report(int argc, char **argv)
{
	struct report_args a = { 0 };
	int ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;

	struct qst_result res[QST_PARAM_COUNT];
	struct qst_analysis_meta meta;
	char err[512];
	ret = qst_session_load_analysis(a.file, res, &meta, err, sizeof(err));
	if (ret < 0) {
		qst_cli_error("%s", err);
		return qst_cli_exit_code(ret);
	}
	struct qst_streams *streams = NULL;
	struct qst_paradigms *pd = NULL;
	ret = load_paradigms(a.file, &streams, &pd);
	char *def = a.svg ? NULL : default_svg_name(a.file);
	const char *svg = a.svg ? a.svg : def;
	if (ret == QST_OK && !svg)
		ret = QST_ERR_NOMEM;
	struct profile_ctx pc = { res, &meta };
	if (ret == QST_OK)
		ret = write_svg(svg, a.overwrite, draw_profile, &pc);
	if (ret == QST_OK)
		ret = write_paradigm_svgs(svg, a.overwrite, pd, streams, &meta,
					  a.csv || a.json);
	if (ret == QST_OK && a.csv) {
		ret = qst_report_csv(stdout, res, &meta);
		/* A second table after a blank line, only with a paradigm:
		 * DFNS-only CSV stays as it was (docs/report.md). */
		if (ret == QST_OK && pd->n_rows > 0) {
			fputc('\n', stdout);
			ret = qst_index_rows_csv(stdout, pd->rows, pd->n_rows);
		}
	} else if (ret == QST_OK && a.json) {
		ret = qst_report_json_indices(stdout, res, &meta, pd->rows,
					      pd->n_rows);
	} else if (ret == QST_OK) {
		printf("%s  subject %s  protocol %s  started %s\n", a.file,
		       meta.subject_id, meta.protocol_name,
		       meta.session_start_utc);
		qst_results_print_stored(stdout, res, &meta.subject,
					 meta.ref_table_id,
					 meta.ref_table_sha256);
		qst_index_rows_print(stdout, pd->rows, pd->n_rows);
	}
	/* stdout may carry CSV or JSON: then the file name goes to stderr. */
	if (ret == QST_OK)
		fprintf(a.csv || a.json ? stderr : stdout, "%sProfile: %s\n",
			a.csv || a.json ? "" : "\n", svg);
	free(def);
	qst_paradigms_free(pd);
	qst_streams_free(streams);
	return qst_cli_exit_code(ret);
}
