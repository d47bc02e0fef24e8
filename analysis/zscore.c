/*
 * z-scores and the abnormality rule (qst-domain.md §3.1, §3.2, §3.5).
 */
#include <math.h>

#include "qst_analysis.h"

/* §3.5: outside the two-sided 95 % reference interval. */
#define QST_Z_ABNORMAL 1.96

double qst_zscore(enum qst_param p, double transformed, double mean,
		  double sd)
{
	const struct qst_param_info *info = qst_param_info(p);
	/* A zero SD (PHS, DMA cells) makes z meaningless, not infinite. */
	if (!info || !isfinite(transformed) || !isfinite(mean) ||
	    !isfinite(sd) || sd <= 0.0)
		return NAN;
	double z = (transformed - mean) / sd;
	return info->invert ? -z : z;
}

int qst_abnormal(double z)
{
	/* Compare the unrounded z (§3.5); NaN compares false both ways. */
	if (z > QST_Z_ABNORMAL)
		return 1;
	if (z < -QST_Z_ABNORMAL)
		return -1;
	return 0;
}
