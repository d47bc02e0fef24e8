/*
 * The constant parameter tables: names, units, transforms and the sign map
 * (qst-domain.md §1.1, §3.2, §3.3, §3.6), and the age band rule (§4.4).
 */
#include <math.h>
#include <strings.h>

#include "qst_analysis.h"

/* Order matches enum qst_param. */
static const struct qst_param_info param_table[QST_PARAM_COUNT] = {
	/* §3.2: z inverted where a lower raw value means more sensitive. */
	{ QST_CDT, "CDT", "degC", QST_TF_LOG10_ABS, true, true,
	  { "degC", "degC", "degC", "degC/s" } },
	{ QST_WDT, "WDT", "degC", QST_TF_LOG10, true, true,
	  { "degC", "degC", "degC", "degC/s" } },
	{ QST_TSL, "TSL", "degC", QST_TF_LOG10, true, true,
	  { "degC", "degC", "degC", "degC/s" } },
	/* §3.6: PHS and DMA are not z-scored. */
	{ QST_PHS, "PHS", "count", QST_TF_NONE, false, false,
	  { "degC", "degC", "degC", "degC/s" } },
	/* §3.2: a higher CPT (pain at warmer temperature) is gain. */
	{ QST_CPT, "CPT", "degC", QST_TF_NONE, false, true,
	  { "degC", "degC", "degC", "degC/s" } },
	{ QST_HPT, "HPT", "degC", QST_TF_NONE, true, true,
	  { "degC", "degC", "degC", "degC/s" } },
	{ QST_MDT, "MDT", "mN", QST_TF_LOG10, true, true,
	  { "mN", "mN", "n/a", "n/a" } },
	{ QST_MPT, "MPT", "mN", QST_TF_LOG10, true, true,
	  { "mN", "mN", "n/a", "n/a" } },
	{ QST_MPS, "MPS", "NRS", QST_TF_LOG10_PLUS_0_1, false, true,
	  { "NRS", "mN", "n/a", "n/a" } },
	{ QST_DMA, "DMA", "NRS", QST_TF_LOG10_PLUS_0_1, false, false,
	  { "NRS", "mN", "n/a", "n/a" } },
	{ QST_WUR, "WUR", "ratio", QST_TF_LOG10, false, true,
	  { "NRS", "mN", "n/a", "n/a" } },
	{ QST_VDT, "VDT", "/8", QST_TF_NONE, false, true,
	  { "/8", "n/a", "n/a", "n/a" } },
	{ QST_PPT, "PPT", "kPa", QST_TF_LOG10, true, true,
	  { "kPa", "kPa", "kPa", "kPa/s" } },
};

const struct qst_param_info *qst_param_info(enum qst_param p)
{
	if ((int)p < 0 || p >= QST_PARAM_COUNT)
		return NULL;
	return &param_table[p];
}

const char *qst_param_name(enum qst_param p)
{
	const struct qst_param_info *info = qst_param_info(p);
	return info ? info->name : "unknown";
}

int qst_param_from_name(const char *name)
{
	if (!name)
		return QST_ERR_NOTFOUND;
	for (int p = 0; p < QST_PARAM_COUNT; p++)
		if (strcasecmp(name, param_table[p].name) == 0)
			return p;
	return QST_ERR_NOTFOUND;
}

const char *qst_transform_name(enum qst_transform tf)
{
	/* The spellings of the /derived `transform` attribute (§10.2). */
	switch (tf) {
	case QST_TF_NONE:
		return "none";
	case QST_TF_LOG10:
		return "log10";
	case QST_TF_LOG10_ABS:
		return "log10_abs";
	case QST_TF_LOG10_PLUS_0_1:
		return "log10_plus_0.1";
	}
	return "unknown";
}

int qst_age_band(double age_years)
{
	/* §4.4: band from completed years; < 20 has no reference. */
	if (!isfinite(age_years) || age_years < 20.0)
		return 0;
	if (age_years >= 60.0) /* before the cast: 1e300 fits no int */
		return 5;
	return (int)floor(age_years / 10.0) - 1;
}

const char *qst_quality_name(int q)
{
	static const char *const names[QST_QUALITY_COUNT] = {
		"none", "cold", "warm", "hot", "burning",
	};
	if (q < 0 || q >= QST_QUALITY_COUNT)
		return "unknown";
	return names[q];
}
