/*
 * qst — the QST lab station controller.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qst_cli.h"
#include "qst_core.h"
#include "qst_recorder.h"

static const char usage_text[] =
	"usage: qst <command> [options]\n"
	"\n"
	"commands:\n"
	"  run PROTOCOL.lua --subject ID --sex F|M --age N --site SITE --out FILE.h5\n"
	"                     run a session and write one HDF5 file\n"
	"  check PROTOCOL.lua  dry-run a protocol on the simulated station: steps,\n"
	"                     expected duration, stimulus envelope\n"
	"  analyze FILE.h5     compute DFNS parameters and z-scores into /analysis\n"
	"  analyze --group FILE.h5 FILE.h5 ...\n"
	"                     compare analysed sessions with the reference\n"
	"                     (group t-test, Magerl 2010)\n"
	"  report FILE.h5 [--svg OUT.svg] [--csv|--json]\n"
	"                     sensory profile (SVG) and loss/gain code of an\n"
	"                     analysed session\n"
	"  recover FILE.h5.journal\n"
	"                     rebuild a session file from its crash journal\n"
	"  config [FILE.lua]  check a station file, print the effective station\n"
	"  devices [--probe]  list serial ports and USB devices with the drivers\n"
	"                     that may serve them; --probe asks each to identify\n"
	"  simulate tcs2|mark10|xid|evas|trigger [--seed N] [--fault KIND@S[:ARG]]\n"
	"                     serve a simulated device on a pseudo-terminal and\n"
	"                     print its path (docs/serial.md)\n"
	"\n"
	"`qst <command> --help` describes a command's options.\n"
	"Environment: QST_LOG=error|warn|info|debug|spew sets the log level;\n"
	"QST_DATADIR is where the reference tables live.\n"
	"\n"
	"exit status: 0 success, 1 error, 2 usage, 3 protocol error or safety\n"
	"refusal, 4 device fault, 5 session file could not be written or read,\n"
	"6 ended by the emergency stop, 7 disk full (the session paused and no\n"
	"space came back within 10 minutes)\n";

void qst_cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("qst: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int qst_cli_exit_code(int err)
{
	switch (err) {
	case QST_OK:
		return QST_EXIT_OK;
	case QST_ERR_ARG:
		return QST_EXIT_USAGE;
	case QST_ERR_SCRIPT:
	case QST_ERR_LIMIT:
	case QST_ERR_UNSUPPORTED:
		return QST_EXIT_PROTOCOL;
	case QST_ERR_DEVICE:
	case QST_ERR_TIMEOUT:
		return QST_EXIT_DEVICE;
	case QST_ERR_IO:
	case QST_ERR_EXISTS:
	case QST_ERR_HDF5:
	case QST_ERR_NOTFOUND:
	case QST_ERR_CHECKSUM:
	case QST_ERR_DATA:
		return QST_EXIT_FILE;
	case QST_ERR_ABORTED:
		return QST_EXIT_STOPPED;
	case QST_ERR_NOSPACE:
		return QST_EXIT_DISK_FULL;
	default:
		return QST_EXIT_ERROR;
	}
}

int main(int argc, char **argv)
{
	qst_h5_no_atexit();
	qst_log_init_from_env();
	if (argc < 2) {
		fputs(usage_text, stderr);
		return QST_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return QST_EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("qst %s\n", QST_VERSION);
		return QST_EXIT_OK;
	}
	if (!strcmp(cmd, "run"))
		return qst_cli_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return qst_cli_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "analyze") || !strcmp(cmd, "analyse"))
		return qst_cli_analyze(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return qst_cli_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "config"))
		return qst_cli_config(argc - 1, argv + 1);
	if (!strcmp(cmd, "recover"))
		return qst_cli_recover(argc - 1, argv + 1);
	if (!strcmp(cmd, "devices"))
		return qst_cli_devices(argc - 1, argv + 1);
	if (!strcmp(cmd, "simulate"))
		return qst_cli_simulate(argc - 1, argv + 1);
	qst_cli_error("unknown command '%s' (try qst --help)", cmd);
	return QST_EXIT_USAGE;
}
