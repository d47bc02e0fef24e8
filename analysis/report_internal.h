/*
 * Helpers shared by the report writers; not part of the public API.
 */
#ifndef QST_ANALYSIS_REPORT_INTERNAL_H
#define QST_ANALYSIS_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Length of the valid UTF-8 sequence starting at s (1..4), or 0 when the
 * bytes there are not valid UTF-8 (RFC 3629). s[0] must not be NUL.
 */
int qst_utf8_seq_len(const unsigned char *s);

/*
 * Character data for XML (report_svg.c): markup characters escaped, and
 * what XML 1.0 forbids (controls, broken UTF-8) replaced.
 */
void qst_xml_text(FILE *f, const char *s);

/* One CSV field and its separator (a newline when last); quoted only
 * when it holds a comma, quote or line break (RFC 4180). */
void qst_csv_field(FILE *f, const char *s, bool last);

#endif
