/*
 * qst config: load a station file, validate it and print the effective
 * configuration (docs/station-config.md).
 */
#include <stdio.h>
#include <string.h>

#include "qst_cli.h"
#include "qst_config.h"

static const char config_help[] =
	"usage: qst config [FILE.lua]\n"
	"\n"
	"Loads a station file, checks every key, type, range and the rule that\n"
	"its limits may only be stricter than the built-in ones, and prints the\n"
	"effective configuration as a station file. Without FILE it prints the\n"
	"built-in station. Exit status 0 valid, 3 a limit looser than the\n"
	"built-in one, 5 anything else wrong with the file.\n";

int qst_cli_config(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(config_help, stdout);
		return QST_EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		qst_cli_error("usage: qst config [FILE.lua] (see --help)");
		return QST_EXIT_USAGE;
	}
	struct qst_config conf;
	char err[512];
	qst_config_default(&conf);
	if (argc == 2) {
		int ret = qst_config_load_file(argv[1], &conf, err, sizeof(err));
		if (ret < 0) {
			qst_cli_error("station file refused: %s", err);
			return qst_cli_exit_code(ret);
		}
	}
	qst_config_print(&conf, stdout);
	struct qst_station_config st = { 0 };
	memcpy(st.roles, conf.roles, sizeof(st.roles));
	if (qst_station_config_is_real(&st))
		fprintf(stderr, "qst: note: a station of real devices: qst run "
			"opens their ports (qst devices --probe checks them); "
			"qst check dry-runs on the simulated devices\n");
	return QST_EXIT_OK;
}
