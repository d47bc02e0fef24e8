/*
 * qst report — loss/gain coding, the group test against the reference, and
 * the sensory-profile outputs (SVG, CSV, JSON) built from /analysis.
 * Rules: ../shared/docs/qst-domain.md §5.1 (LG coding), §3.9 (group test).
 */
#ifndef QST_ANALYSIS_QST_REPORT_H
#define QST_ANALYSIS_QST_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "qst_analysis.h"
#include "qst_paradigms.h"
#include "qst_session_file.h"

/* ------------------------------------------------------- loss/gain code */

/*
 * LG code per qst-domain.md §5.1: loss 0..3 (L1 thermal CDT/WDT, L2
 * mechanical MDT/VDT, L3 both), gain 0..3 (G1 thermal CPT/HPT, G2
 * mechanical MPT/MPS/DMA/PPT, G3 both); code "L3G2". A z-scored parameter
 * counts when it has a finite z (|z| > 1.96 in the coding direction); DMA
 * counts when done, any pain being a gain. Returns the number of the ten
 * coding parameters that could not contribute (not done, no z), so 0 means
 * the code is complete; QST_ERR_ARG on NULL arguments.
 */
int qst_lg_code(const struct qst_result res[QST_PARAM_COUNT], int *loss,
		int *gain, char code[8]);

/*
 * True when parameter p is one of the ten that enter the LG code and it
 * could not contribute (what qst_lg_code counted).
 */
bool qst_lg_param_missing(const struct qst_result res[QST_PARAM_COUNT],
			  enum qst_param p);

/*
 * "L1G0" or, when incomplete, "L1G0 (MDT, VDT not done; CPT no z-score)".
 * Returns qst_lg_code's count, or QST_ERR_ARG.
 */
int qst_lg_describe(const struct qst_result res[QST_PARAM_COUNT], char *buf,
		    size_t len);

/* Space-separated names of the coding parameters that did not contribute. */
void qst_lg_missing_names(const struct qst_result res[QST_PARAM_COUNT],
			  char *buf, size_t len);

/* ------------------------------------------------ group test (Magerl B) */

/*
 * Magerl 2010 "method B" (qst-domain.md §3.9): t = m / sqrt(s²/n + 1/n),
 * df = 2(n − 1), two-sided p from Student's t. m and s are the mean and
 * sample SD (n − 1) of the group's z-scores. QST_ERR_ARG for n < 2 or a
 * non-finite z.
 */
int qst_group_t(const double *z, size_t n, double *t, int *df, double *p);
/* The same from summary statistics (mean, SD, n). */
int qst_group_t_stats(double mean_z, double sd_z, size_t n, double *t,
		      int *df, double *p);
/* Two-sided p of Student's t with df degrees of freedom; NaN on bad input. */
double qst_t_two_sided_p(double t, double df);
/* Regularized incomplete beta I_x(a, b); NaN outside a, b > 0, 0 ≤ x ≤ 1. */
double qst_betai(double a, double b, double x);

/* ------------------------------------------------------------- outputs */

/* The table's verdict word: "normal", "loss", "gain", "abnormal" (PHS),
 * "no ref", "undefined". Not-done rows are the caller's to name. */
const char *qst_result_verdict(const struct qst_result *r);

/* Name of QST_RES_* bit i ("cutoff_reached", ...), NULL past the last. */
const char *qst_result_flag_name(unsigned bit);
/* All of them, for the /analysis flag_names attribute. */
const char *const *qst_result_flag_names(size_t *count);

/*
 * The sensory profile as a standalone SVG 1.1 document written to f: z per
 * parameter in DFNS order, the ±1.96 band, one <g class="mark param-XXX ...">
 * per parameter, the LG code, subject and reference in header and footer.
 * QST_ERR_IO when writing fails.
 */
int qst_report_svg(FILE *f, const struct qst_result res[QST_PARAM_COUNT],
		   const struct qst_analysis_meta *meta);

/* Columns: param,n,value_raw,unit,value_transformed,ref_mean,ref_sd,z,
 * abnormal,flags,stratum,ref_table_id; NaN is an empty field. */
int qst_report_csv(FILE *f, const struct qst_result res[QST_PARAM_COUNT],
		   const struct qst_analysis_meta *meta);

/* One JSON object: metadata, lg_code/lg_loss/lg_gain, rows; NaN → null. */
int qst_report_json(FILE *f, const struct qst_result res[QST_PARAM_COUNT],
		    const struct qst_analysis_meta *meta);

/* The same with an "indices" array (qst_index_rows_json) after "rows"
 * when n_rows > 0; qst_report_json is this with none. */
int qst_report_json_indices(FILE *f,
			    const struct qst_result res[QST_PARAM_COUNT],
			    const struct qst_analysis_meta *meta,
			    const struct qst_index_row *rows, size_t n_rows);

/*
 * qst_results_print for results read back from a file: the reference is
 * named by id and checksum instead of a loaded table (either may be "").
 */
void qst_results_print_stored(FILE *f,
			      const struct qst_result res[QST_PARAM_COUNT],
			      const struct qst_subject *subject,
			      const char *ref_id, const char *ref_sha256);

#endif
