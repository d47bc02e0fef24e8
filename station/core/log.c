/*
 * Leveled logger (qst_core.h). Each message is formatted completely before
 * a single write to stderr, so lines from concurrent threads never
 * interleave mid-line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qst_core.h"

#include <stdatomic.h>

static _Atomic int log_level = QST_LOG_WARN;
static qst_log_handler _Atomic log_handler;
static void *_Atomic log_user;

static const char *const level_names[] = {
	"none", "error", "warn", "info", "debug", "spew",
};

static int parse_level(const char *s)
{
	if (isdigit((unsigned char)s[0]) && s[1] == '\0') {
		int v = s[0] - '0';
		return v <= QST_LOG_SPEW ? v : -1;
	}
	for (int i = 0; i <= QST_LOG_SPEW; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	/* Common spellings people type. */
	if (strcasecmp(s, "err") == 0)
		return QST_LOG_ERR;
	if (strcasecmp(s, "warning") == 0)
		return QST_LOG_WARN;
	return -1;
}

void qst_log_init_from_env(void)
{
	const char *env = getenv("QST_LOG");
	if (!env || !*env)
		return;
	int level = parse_level(env);
	if (level < 0) {
		qst_log(QST_LOG_WARN, "log: ", "QST_LOG=%s not understood "
			"(none|error|warn|info|debug|spew or 0-5)", env);
		return;
	}
	log_level = level;
}

void qst_log_set_level(enum qst_log_level level)
{
	if ((int)level < QST_LOG_NONE)
		level = QST_LOG_NONE;
	if (level > QST_LOG_SPEW)
		level = QST_LOG_SPEW;
	log_level = (int)level;
}

enum qst_log_level qst_log_get_level(void)
{
	return (enum qst_log_level)log_level;
}

void qst_log_set_handler(qst_log_handler handler, void *user)
{
	log_user = user;
	log_handler = handler;
}

void qst_logv(enum qst_log_level level, const char *prefix, const char *fmt,
	      va_list ap)
{
	if (level <= QST_LOG_NONE || (int)level > log_level)
		return;
	if (level > QST_LOG_SPEW)
		level = QST_LOG_SPEW;
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Messages are lines; a trailing newline from the caller is dropped. */
	size_t len = strlen(msg);
	if (len > 0 && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	if (!prefix)
		prefix = "";

	qst_log_handler handler = log_handler;
	if (handler) {
		handler(level, prefix, msg, log_user);
		return;
	}
	fprintf(stderr, "qst: %s: %s%s\n", level_names[level], prefix, msg);
}

void qst_log(enum qst_log_level level, const char *prefix, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	qst_logv(level, prefix, fmt, ap);
	va_end(ap);
}
