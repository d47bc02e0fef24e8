/*
 * Reading a session file back, and writing /analysis into it.
 * Analysis works on recorded data alone (docs/hdf5-schema.md).
 */
#ifndef QST_ANALYSIS_QST_SESSION_FILE_H
#define QST_ANALYSIS_QST_SESSION_FILE_H

#include <stddef.h>

#include "qst_analysis.h"
#include "qst_paradigms.h"

struct qst_session_data {
	struct qst_subject subject;
	char subject_id[64];
	char protocol_name[128];
	char session_start_time[40];
	struct qst_trial_view *trials;
	size_t n_trials;
};

/* Load subject metadata and the trial table; errbuf names the problem. */
int qst_session_load(const char *path, struct qst_session_data **out,
		     char *errbuf, size_t errlen);
void qst_session_data_free(struct qst_session_data *d);

/*
 * Replace /analysis in the file with these results (idempotent: running it
 * twice leaves the same content). ref may be NULL.
 */
int qst_session_write_analysis(const char *path,
			       const struct qst_result res[QST_PARAM_COUNT],
			       const struct qst_reftable *ref, char *errbuf,
			       size_t errlen);

/*
 * The same, and /analysis/indices from the paradigm rows when n_rows > 0
 * (docs/hdf5-schema.md); with none the file is exactly as
 * qst_session_write_analysis leaves it.
 */
int qst_session_write_analysis_indices(
	const char *path, const struct qst_result res[QST_PARAM_COUNT],
	const struct qst_reftable *ref, const struct qst_index_row *rows,
	size_t n_rows, char *errbuf, size_t errlen);

/* What a report needs besides the rows: /metadata and /analysis attributes. */
struct qst_analysis_meta {
	struct qst_subject subject;  /* sex, age_years, site */
	char subject_id[64];
	char side[16];               /* "left", "right" or "" */
	char protocol_name[128];
	char session_start_utc[40];
	char ref_table_id[64];       /* "" when analysed without a table */
	char ref_table_sha256[72];
	char formula_version[16];
};

/*
 * Read /analysis (13 rows in DFNS order) and the metadata back. meta may be
 * NULL. A file without /analysis gives QST_ERR_NOTFOUND and an errbuf that
 * says to run `qst analyze` first; a malformed one QST_ERR_DATA.
 */
int qst_session_load_analysis(const char *path,
			      struct qst_result out[QST_PARAM_COUNT],
			      struct qst_analysis_meta *meta, char *errbuf,
			      size_t errlen);

#endif
