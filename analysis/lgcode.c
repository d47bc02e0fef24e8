/*
 * Loss/gain coding of a sensory profile (qst-domain.md §5.1, after Maier
 * 2010). TSL, PHS, WUR and hypoalgesia do not enter the code (§5.1).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qst_report.h"

#define LOG_PREFIX "lgcode: "

/* Which class a parameter feeds, and in which direction it must go. */
enum lg_class { LG_NONE, LG_LOSS_THERMAL, LG_LOSS_MECH, LG_GAIN_THERMAL,
		LG_GAIN_MECH };

static enum lg_class lg_class_of(enum qst_param p)
{
	switch (p) {
	case QST_CDT: case QST_WDT:
		return LG_LOSS_THERMAL;
	case QST_MDT: case QST_VDT:
		return LG_LOSS_MECH;
	case QST_CPT: case QST_HPT:
		return LG_GAIN_THERMAL;
	case QST_MPT: case QST_MPS: case QST_DMA: case QST_PPT:
		return LG_GAIN_MECH;
	default:
		return LG_NONE;
	}
}

/* DMA is not z-scored: any pain to light touch is the gain sign (§3.6). */
static bool dma_usable(const struct qst_result *r)
{
	return !(r->flags & (QST_RES_NOT_DONE | QST_RES_UNDEFINED));
}

bool qst_lg_param_missing(const struct qst_result res[QST_PARAM_COUNT],
			  enum qst_param p)
{
	if (!res || (int)p < 0 || (int)p >= QST_PARAM_COUNT ||
	    lg_class_of(p) == LG_NONE)
		return false;
	const struct qst_result *r = &res[p];
	if (p == QST_DMA)
		return !dma_usable(r);
	return (r->flags & QST_RES_NOT_DONE) || !isfinite(r->z);
}

/* Does this parameter show the sign its class codes for? */
static bool shows_sign(const struct qst_result *r, enum qst_param p)
{
	if (p == QST_DMA)
		return r->abnormal > 0;
	/* qst_abnormal is |z| > 1.96 on the unrounded z (§3.5). */
	int dir = qst_abnormal(r->z);
	switch (lg_class_of(p)) {
	case LG_LOSS_THERMAL: case LG_LOSS_MECH:
		return dir < 0;
	case LG_GAIN_THERMAL: case LG_GAIN_MECH:
		return dir > 0;
	default:
		return false;
	}
}

int qst_lg_code(const struct qst_result res[QST_PARAM_COUNT], int *loss,
		int *gain, char code[8])
{
	if (!res || !loss || !gain || !code)
		return QST_ERR_ARG;
	bool loss_th = false, loss_me = false, gain_th = false,
	     gain_me = false;
	int missing = 0;

	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		enum qst_param p = (enum qst_param)i;
		enum lg_class c = lg_class_of(p);
		if (c == LG_NONE)
			continue;
		if (qst_lg_param_missing(res, p)) {
			missing++;
			continue;
		}
		if (!shows_sign(&res[p], p))
			continue;
		loss_th |= c == LG_LOSS_THERMAL;
		loss_me |= c == LG_LOSS_MECH;
		gain_th |= c == LG_GAIN_THERMAL;
		gain_me |= c == LG_GAIN_MECH;
	}
	/* L1 thermal, L2 mechanical, L3 both; G likewise (§5.1). */
	*loss = (loss_th ? 1 : 0) + (loss_me ? 2 : 0);
	*gain = (gain_th ? 1 : 0) + (gain_me ? 2 : 0);
	snprintf(code, 8, "L%dG%d", *loss, *gain);
	return missing;
}

/* Append "A, B <what>" for missing parameters matching not_done. */
static void append_missing(const struct qst_result res[QST_PARAM_COUNT],
			   bool not_done, const char *what, char *buf,
			   size_t len)
{
	size_t used = strlen(buf);
	int count = 0;

	for (int i = 0; i < QST_PARAM_COUNT; i++) {
		enum qst_param p = (enum qst_param)i;
		if (!qst_lg_param_missing(res, p) ||
		    !!(res[p].flags & QST_RES_NOT_DONE) != not_done)
			continue;
		const char *sep = count ? ", " : (used > 0 ? "; " : "");
		int w = snprintf(buf + used, len - used, "%s%s", sep,
				 qst_param_name(p));
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
		count++;
	}
	if (count)
		snprintf(buf + used, len - used, " %s", what);
}

int qst_lg_describe(const struct qst_result res[QST_PARAM_COUNT], char *buf,
		    size_t len)
{
	int loss, gain;
	char code[8];

	if (!buf || len == 0)
		return QST_ERR_ARG;
	buf[0] = '\0';
	int missing = qst_lg_code(res, &loss, &gain, code);
	if (missing < 0)
		return missing;
	if (missing == 0) {
		snprintf(buf, len, "%s", code);
		return 0;
	}
	char why[160] = "";
	append_missing(res, true, "not done", why, sizeof(why));
	append_missing(res, false, "no z-score", why, sizeof(why));
	snprintf(buf, len, "%s (%s)", code, why);
	return missing;
}

void qst_lg_missing_names(const struct qst_result res[QST_PARAM_COUNT],
			  char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	buf[0] = '\0';
	size_t used = 0;
	for (int i = 0; res && i < QST_PARAM_COUNT; i++) {
		if (!qst_lg_param_missing(res, (enum qst_param)i))
			continue;
		int w = snprintf(buf + used, len - used, "%s%s",
				 used ? " " : "",
				 qst_param_name((enum qst_param)i));
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
	}
}
