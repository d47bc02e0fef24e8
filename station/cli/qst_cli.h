/*
 * The `qst` command line: one file per subcommand.
 */
#ifndef QST_STATION_CLI_QST_CLI_H
#define QST_STATION_CLI_QST_CLI_H

#include <stdio.h>

/* Exit codes, documented in `qst --help` and README. */
enum qst_exit {
	QST_EXIT_OK = 0,
	QST_EXIT_ERROR = 1,     /* anything not below */
	QST_EXIT_USAGE = 2,     /* bad command line */
	QST_EXIT_PROTOCOL = 3,  /* script error or a supervisor refusal */
	QST_EXIT_DEVICE = 4,    /* device fault or timeout */
	QST_EXIT_FILE = 5,      /* session file could not be written or read */
	QST_EXIT_STOPPED = 6,   /* ended by the emergency stop */
	QST_EXIT_DISK_FULL = 7, /* disk full: paused, no space came back */
};

/* Map a qst_err to the exit code a shell script sees. */
int qst_cli_exit_code(int err);

int qst_cli_run(int argc, char **argv);
int qst_cli_check(int argc, char **argv);
int qst_cli_analyze(int argc, char **argv);
int qst_cli_recover(int argc, char **argv);
int qst_cli_report(int argc, char **argv);
/* qst config: validate a station file, print the effective station. */
int qst_cli_config(int argc, char **argv);
/* qst devices [--probe]: serial ports and USB devices, their drivers. */
int qst_cli_devices(int argc, char **argv);
/* qst simulate: serve a simulated device on a pseudo-terminal. */
int qst_cli_simulate(int argc, char **argv);
/* qst analyze --group: the Magerl group test over analysed files. */
int qst_cli_analyze_group(int argc, char **argv);

/*
 * Analyse a session file: compute every parameter, write /analysis and
 * print the table to out. ref_path NULL → the default reference table.
 */
int qst_cli_analyze_file(const char *path, const char *ref_path, FILE *out);

/* Print "qst: <message>" to stderr. */
void qst_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
