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

#endif
