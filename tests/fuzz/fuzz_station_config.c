/*
 * Station-file loader (station/qst_config.h: qst_config_load_text): any
 * bytes, evaluated under the file's budget. A refused file names the
 * problem and leaves the built-in station; a loaded one has every limit
 * within the compiled-in range (it may only tighten them, qst-domain.md
 * §8), consistent limits, a mounted probe among its probes, and a subject
 * pattern that compiles with a hint beside it; and what `qst config`
 * prints for it loads back to the same station.
 */
#include <math.h>
#include <regex.h>
#include <string.h>

#include "fuzz.h"
#include "qst_config.h"

FUZZ_QUIET_INITIALIZE()

static void check_limits(const struct qst_thermal_limits *lim)
{
	struct qst_thermal_limits def;
	char why[200];
	qst_thermal_limits_default(&def);
	for (const struct qst_limit_key *k = qst_limit_keys(); k->name; k++) {
		double v = qst_limit_get(lim, k), d = qst_limit_get(&def, k);
		FUZZ_CHECK(isfinite(v));
		if (k->sense == QST_LIMIT_CEILING)
			FUZZ_CHECK(v <= d && v >= k->strict);
		else if (k->sense == QST_LIMIT_FLOOR)
			FUZZ_CHECK(v >= d && v <= k->strict);
	}
	FUZZ_CHECK(qst_limits_consistent(lim, why, sizeof(why)) == QST_OK);
	FUZZ_CHECK(lim->min_c < lim->max_c);
}

static void check_loaded(const struct qst_config *c)
{
	check_limits(&c->limits);
	FUZZ_CHECK(c->n_probes >= 1 && c->n_probes <= QST_CONFIG_MAX_PROBES);
	FUZZ_CHECK(c->probe >= 0 && c->probe < c->n_probes);
	FUZZ_CHECK(c->limits.max_kpa == c->probes[c->probe].max_kpa);
	for (int i = 0; i < c->n_probes; i++)
		FUZZ_CHECK(c->probes[i].area_cm2 > 0 && c->probes[i].max_kpa > 0 &&
			   c->probes[i].max_kpa <= 2200.0);
	if (c->subject_pattern[0]) {
		regex_t re;
		FUZZ_CHECK(c->subject_hint[0] != '\0');
		FUZZ_CHECK(regcomp(&re, c->subject_pattern, REG_EXTENDED | REG_NOSUB) == 0);
		regfree(&re);
	}
	char err[300];
	(void)qst_config_check_subject(c, "P042", err, sizeof(err));
}

/* What qst config prints is a station file that loads to the same. */
static void check_round_trip(const struct qst_config *c)
{
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_CHECK(f != NULL);
	qst_config_print(c, f);
	FUZZ_CHECK(fclose(f) == 0);
	struct qst_config back;
	int rc = qst_config_load_text(text, len, "printed.lua", &back, err,
				      sizeof(err));
	if (rc != QST_OK)
		fprintf(stderr, "%s\n%s\n", text, err);
	FUZZ_CHECK(rc == QST_OK);
	free(text);
	FUZZ_CHECK(strcmp(back.name, c->name) == 0);
	FUZZ_CHECK(strcmp(back.subject_pattern, c->subject_pattern) == 0);
	FUZZ_CHECK(back.n_probes == c->n_probes && back.probe >= 0);
	FUZZ_CHECK(strcmp(back.probes[back.probe].name, c->probes[c->probe].name) == 0);
	for (const struct qst_limit_key *k = qst_limit_keys(); k->name; k++) {
		double a = qst_limit_get(&back.limits, k), b = qst_limit_get(&c->limits, k);
		FUZZ_CHECK(fabs(a - b) <= 1e-12 * fmax(1.0, fabs(b)));
	}
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		FUZZ_CHECK(strcmp(back.roles[r].driver, c->roles[r].driver) == 0 &&
			   strcmp(back.roles[r].port, c->roles[r].port) == 0 &&
			   strcmp(back.roles[r].usb, c->roles[r].usb) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qst_config c;
	char err[512] = "";
	int rc = qst_config_load_text((const char *)data, size, "fuzz.lua", &c,
				      err, sizeof(err));
	if (rc != QST_OK) {
		struct qst_config def;
		qst_config_default(&def);
		FUZZ_CHECK(rc == QST_ERR_DATA || rc == QST_ERR_LIMIT ||
			   rc == QST_ERR_NOMEM);
		if (rc != QST_ERR_NOMEM) /* the host's malloc, not the file */
			FUZZ_CHECK(strncmp(err, "fuzz.lua", 8) == 0 &&
				   strlen(err) > 10);
		FUZZ_CHECK(memcmp(&c.limits, &def.limits, sizeof(def.limits)) == 0);
		return 0;
	}
	check_loaded(&c);
	check_round_trip(&c);
	return 0;
}
