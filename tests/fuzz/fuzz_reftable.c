/*
 * Reference-table loader (analysis/qst_analysis.h: qst_reftable_load),
 * through a file in a private temp dir with no .sha256 beside it. A table
 * that loads must answer lookups with finite cells and carry the digest
 * of the bytes it was read from.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "qst_analysis.h"

static char table[300];

static void check_lookups(const struct qst_reftable *t)
{
	static const char *const sites[] = { "hand", "foot", "face" };
	static const double ages[] = { 25, 35, 45, 55, 65 };
	struct qst_refcell cell;

	for (int p = 0; p < QST_PARAM_COUNT; p++)
		for (size_t s = 0; s < 3; s++)
			for (size_t a = 0; a < 5; a++)
				for (int x = 0; x < 2; x++) {
					if (qst_reftable_lookup(t, p, sites[s],
								"FM"[x], ages[a],
								&cell) != QST_OK)
						continue;
					FUZZ_CHECK(isfinite(cell.mean));
					FUZZ_CHECK(cell.sd >= 0);
					FUZZ_CHECK(cell.age_band >= 1 &&
						   cell.age_band <= 5);
				}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	snprintf(table, sizeof(table), "%s/table.csv", fuzz_temp_dir());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qst_reftable *t = NULL;
	char err[512] = "";
	char digest[65];

	if (!fuzz_write_file(table, data, size))
		abort();
	int rc = qst_reftable_load(table, &t, err, sizeof(err));
	unlink(table);
	if (rc != QST_OK) {
		FUZZ_CHECK(t == NULL && err[0] != '\0');
		return 0;
	}
	qst_sha256_hex(data, size, digest);
	FUZZ_CHECK(strcmp(qst_reftable_sha256(t), digest) == 0);
	FUZZ_CHECK(qst_reftable_id(t)[0] != '\0');
	check_lookups(t);
	qst_reftable_free(t);
	return 0;
}
