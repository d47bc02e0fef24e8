/*
 * Helpers shared between the analysis sources; not part of the public API.
 */
#ifndef QST_ANALYSIS_ANALYSIS_INTERNAL_H
#define QST_ANALYSIS_ANALYSIS_INTERNAL_H

#include <stddef.h>

/* "hand/F/30-39"; band 0 prints as "<20", band 5 as "60+". */
void qst_format_stratum(const char *site, char sex, int band, char *buf,
			size_t len);
/* "20-29" .. "60+", "<20" for band 0. */
const char *qst_age_band_label(int band);

/*
 * Run fn in a child process (isolate.c): it fills *blob (malloc'd, *len
 * bytes) and errbuf and returns a qst_err. The parent gets the same; if
 * the child crashes or exceeds its CPU limit (QST_READ_CPU_SECONDS,
 * default 10) the result is QST_ERR_DATA and errbuf says PATH is damaged.
 */
typedef int (*qst_isolated_fn)(void *ctx, void **blob, size_t *len,
			       char *errbuf, size_t errlen);
int qst_run_isolated(const char *path, qst_isolated_fn fn, void *ctx,
		     void **blob, size_t *len, char *errbuf, size_t errlen);

#endif
