/*
 * qst analyze / qst recover.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qst_cli.h"
#include "qst_recorder.h"
#include "qst_session_file.h"

static const char analyze_help[] =
	"usage: qst analyze FILE.h5 [--ref CSV]\n"
	"       qst analyze --group FILE.h5 FILE.h5 ... [--csv]\n"
	"\n"
	"Computes every DFNS parameter present in the session file from its\n"
	"recorded trials, z-scores them against the reference table, replaces\n"
	"the file's /analysis group with the results (running it again gives\n"
	"the same content) and prints the table. Paradigms found in the events\n"
	"(TSP trains, CPM blocks, offset-analgesia pairs) add their indices\n"
	"in /analysis/indices and a \"Sensitization indices\" section.\n"
	"With --group, compares analysed sessions with the reference instead\n"
	"(see qst analyze --group --help).\n";

static const char recover_help[] =
	"usage: qst recover FILE.h5.journal [--out FILE.h5] [--overwrite]\n"
	"\n"
	"Rebuilds a session file from its journal after a crash or power loss.\n"
	"Every trial completed before the crash is in the journal; a torn last\n"
	"line is dropped and reported. The default output is the journal's name\n"
	"with .journal replaced by .recovered.h5; it is never overwritten unless\n"
	"--overwrite is given.\n";

/* The paradigm indices of path (qst-domain.md §6); *out NULL on error,
 * which has been reported. */
static int load_paradigms(const char *path, struct qst_paradigms **out)
{
	char err[512];
	struct qst_streams *s = NULL;
	*out = NULL;
	int ret = qst_streams_load(path, &s, err, sizeof(err));
	if (ret < 0) {
		qst_cli_error("%s", err);
		return ret;
	}
	ret = qst_paradigms_compute(s, out);
	if (ret < 0)
		qst_cli_error("%s: paradigm indices: %s", path,
			      qst_strerror(ret));
	qst_streams_free(s);
	return ret;
}

int qst_cli_analyze_file(const char *path, const char *ref_path, FILE *out)
{
	char err[512];
	struct qst_session_data *data = NULL;
	int ret = qst_session_load(path, &data, err, sizeof(err));
	if (ret < 0) {
		qst_cli_error("%s", err);
		return qst_cli_exit_code(ret);
	}
	struct qst_paradigms *pd = NULL;
	ret = load_paradigms(path, &pd);
	if (ret < 0) {
		qst_session_data_free(data);
		return qst_cli_exit_code(ret);
	}
	struct qst_reftable *ref = NULL;
	const char *ref_file = ref_path ? ref_path : qst_reftable_default_path();
	ret = qst_reftable_load(ref_file, &ref, err, sizeof(err));
	if (ret < 0) {
		qst_cli_error("reference table: %s", err);
		qst_session_data_free(data);
		qst_paradigms_free(pd);
		return qst_cli_exit_code(ret);
	}
	struct qst_result res[QST_PARAM_COUNT];
	ret = qst_analyze_trials(data->trials, data->n_trials, &data->subject, ref, res);
	if (ret == QST_OK)
		ret = qst_session_write_analysis_indices(path, res, ref, pd->rows,
							 pd->n_rows, err,
							 sizeof(err));
	else
		snprintf(err, sizeof(err), "analysis failed: %s", qst_strerror(ret));
	if (ret < 0) {
		qst_cli_error("%s: %s", path, err);
	} else {
		fprintf(out, "%s  subject %s  protocol %s  started %s\n", path,
			data->subject_id, data->protocol_name, data->session_start_time);
		qst_results_print(out, res, &data->subject, ref);
		qst_index_rows_print(out, pd->rows, pd->n_rows);
	}
	qst_paradigms_free(pd);
	qst_reftable_free(ref);
	qst_session_data_free(data);
	return qst_cli_exit_code(ret);
}

static const struct option analyze_options[] = {
	{ "ref", required_argument, NULL, 'r' },
	{ "out", required_argument, NULL, 'o' },
	{ "overwrite", no_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Shared option scan; returns -1 to go on or an exit code. */
static int scan(int argc, char **argv, const char *help, const char *allowed,
		const char **ref, const char **out, bool *overwrite)
{
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", analyze_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(help, stdout);
			return 0;
		}
		if (opt == '?' || !strchr(allowed, opt)) {
			qst_cli_error("unknown or incomplete option '%s' (see --help)",
				      argv[optind - 1]);
			return QST_EXIT_USAGE;
		}
		if (opt == 'r')
			*ref = optarg;
		else if (opt == 'o')
			*out = optarg;
		else
			*overwrite = true;
	}
	if (optind != argc - 1) {
		qst_cli_error("expected exactly one file argument (see --help)");
		return QST_EXIT_USAGE;
	}
	return -1;
}

int qst_cli_analyze(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--group"))
			return qst_cli_analyze_group(argc, argv);
	const char *ref = NULL, *out = NULL;
	bool overwrite = false;
	int ret = scan(argc, argv, analyze_help, "r", &ref, &out, &overwrite);
	if (ret >= 0)
		return ret;
	return qst_cli_analyze_file(argv[optind], ref, stdout);
}

static char *default_recovered_name(const char *journal)
{
	size_t n = strlen(journal);
	const char *suffix = ".journal";
	size_t sl = strlen(suffix);
	char *out = malloc(n + 16);
	if (!out)
		return NULL;
	if (n > sl && !strcmp(journal + n - sl, suffix)) {
		memcpy(out, journal, n - sl);
		out[n - sl] = '\0';
		size_t m = strlen(out);
		if (m > 3 && !strcmp(out + m - 3, ".h5"))
			out[m - 3] = '\0';
	} else {
		strcpy(out, journal);
	}
	strcat(out, ".recovered.h5");
	return out;
}

int qst_cli_recover(int argc, char **argv)
{
	const char *ref = NULL, *out = NULL;
	bool overwrite = false;
	int ret = scan(argc, argv, recover_help, "ow", &ref, &out, &overwrite);
	if (ret >= 0)
		return ret;
	const char *journal = argv[optind];
	char *def = out ? NULL : default_recovered_name(journal);
	const char *target = out ? out : def;
	if (!target)
		return QST_EXIT_ERROR;
	struct qst_recover_report rep;
	char err[512];
	ret = qst_recover(journal, target, overwrite, &rep, err, sizeof(err));
	if (ret < 0) {
		qst_cli_error("cannot recover %s: %s", journal, err);
	} else {
		printf("recovered %s -> %s: %d trials, %d events, %d temperature samples, "
		       "%d devices; session %s%s\n", journal, target, rep.trials,
		       rep.events, rep.samples, rep.devices,
		       rep.complete ? "complete" : "incomplete (ended by a crash)",
		       rep.truncated_tail ? "; a torn last journal line was dropped" : "");
	}
	free(def);
	return qst_cli_exit_code(ret);
}
