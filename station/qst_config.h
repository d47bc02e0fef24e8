/*
 * qst station configuration — a station file (docs/station-config.md): a
 * Lua file that returns one table, evaluated with no library at all under
 * an instruction and memory budget (qst_data_eval). It names the station,
 * the lab's subject-ID rule, the devices per role and safety limits that
 * may only be stricter than the compiled-in ones (qst-domain.md §8).
 */
#ifndef QST_STATION_QST_CONFIG_H
#define QST_STATION_QST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "qst_session.h"

#define QST_CONFIG_MAX_PROBES 8
/* Station files are small; these budgets leave them a hundredfold room. */
#define QST_CONFIG_MEMORY ((size_t)4 << 20)
#define QST_CONFIG_INSTRUCTIONS UINT64_C(1000000)
#define QST_CONFIG_MAX_BYTES ((size_t)1 << 20)

/* An algometer probe: its contact area and the pressure ceiling with it. */
struct qst_probe {
	char name[32];
	double area_cm2;
	double max_kpa;
};

struct qst_config {
	char name[64];
	/* POSIX extended regular expression the subject ID must match, ""
	 * for the built-in rule (a digit somewhere); the hint says it in
	 * words for the error message. */
	char subject_pattern[128];
	char subject_hint[128];
	struct qst_thermal_limits limits; /* max_kpa: the mounted probe's */
	int n_probes;
	struct qst_probe probes[QST_CONFIG_MAX_PROBES];
	int probe;                        /* the mounted one */
	struct qst_role_config roles[QST_ROLE_COUNT];
};

/* The built-in station: simulated devices, compiled-in limits, one 1 cm²
 * probe (§2.9). */
void qst_config_default(struct qst_config *c);

/*
 * Load a station file. QST_OK; QST_ERR_LIMIT when a value is looser than
 * the compiled-in limit; QST_ERR_DATA for anything else wrong with the
 * contents (syntax, unknown key, wrong type, out of range, budget);
 * QST_ERR_IO/NOTFOUND when it cannot be read. err names the key's path
 * ("limits.thermal.max_c") and the rule or range.
 */
int qst_config_load_text(const char *text, size_t len, const char *chunkname,
			 struct qst_config *c, char *err, size_t errlen);
int qst_config_load_file(const char *path, struct qst_config *c, char *err,
			 size_t errlen);

/*
 * A subject ID: 2-32 letters, digits, '-' or '_' always (it ends up in
 * file names and attributes), then the lab pattern, or without one at
 * least one digit (so a bare name is refused). QST_ERR_ARG with err
 * naming the hint; err never quotes more than the ID.
 */
int qst_config_check_subject(const struct qst_config *c, const char *id,
			     char *err, size_t errlen);

/*
 * Put the configuration into a session: limits, probe area, vibration
 * ceiling. for_run: a role with a real driver is refused
 * (QST_ERR_UNSUPPORTED) until real transports exist (issue 5); the dry
 * run of `qst check` always uses the simulated devices.
 */
int qst_config_apply(const struct qst_config *c, bool for_run,
		     struct qst_session_config *cfg, char *err, size_t errlen);

/* The effective configuration as a station file (`qst config`). */
void qst_config_print(const struct qst_config *c, FILE *out);

#endif
