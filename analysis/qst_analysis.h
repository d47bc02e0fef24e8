/*
 * qst analysis — DFNS parameters, z-scores against versioned reference data,
 * abnormality flags. Works on recorded trials alone: it never touches a
 * driver or the protocol engine. Formulas: ../shared/docs/qst-domain.md
 * §2 (aggregation), §3 (z-scores, sign map, zero handling), §4 (reference).
 */
#ifndef QST_ANALYSIS_QST_ANALYSIS_H
#define QST_ANALYSIS_QST_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "qst_core.h"

/* The 13 DFNS parameters in DFNS order (qst-domain.md §1.1). Append only. */
enum qst_param {
	QST_CDT = 0,
	QST_WDT,
	QST_TSL,
	QST_PHS,
	QST_CPT,
	QST_HPT,
	QST_MDT,
	QST_MPT,
	QST_MPS,
	QST_DMA,
	QST_WUR,
	QST_VDT,
	QST_PPT,
	QST_PARAM_COUNT
};

enum qst_transform {
	QST_TF_NONE = 0,       /* raw value */
	QST_TF_LOG10,          /* log10(x) */
	QST_TF_LOG10_ABS,      /* log10(|x|), CDT */
	QST_TF_LOG10_PLUS_0_1, /* mean of log10(r + 0.1), MPS and DMA */
};

struct qst_param_info {
	enum qst_param param;
	const char *name;      /* "CDT" */
	const char *unit;      /* unit of value_raw, e.g. "degC" */
	enum qst_transform transform;
	bool invert;           /* multiply z by -1 (§3.2) */
	bool z_scored;         /* false for PHS and DMA (§3.6) */
	/* Units of this test's rows in /trials, which every method shares:
	 * the answer (value_measured), the stimulus given (value_commanded),
	 * levels (baseline_c, cutoff_c) and rates; "n/a" where unused. */
	struct {
		const char *value, *commanded, *level, *rate;
	} trial_units;
};

const struct qst_param_info *qst_param_info(enum qst_param p);
const char *qst_param_name(enum qst_param p);
/* Case-insensitive; QST_ERR_NOTFOUND when unknown. */
int qst_param_from_name(const char *name);
const char *qst_transform_name(enum qst_transform tf); /* "log10_abs" */
/* A stored unit as an operator reads it: "degC" → "°C", "" for counts,
 * ratios and "n/a". */
const char *qst_unit_display(const char *unit);

/* Age band per §4.4: 1 (20–29) .. 5 (≥60); 0 for < 20 (no reference). */
int qst_age_band(double age_years);

/* Result flags (bitmask), stored in /analysis. Append only. */
#define QST_RES_CUTOFF_REACHED 0x0001 /* a trial hit the cut-off */
#define QST_RES_BOUNDED_VALUE  0x0002 /* §3.7: at a device/set limit */
#define QST_RES_NO_REFERENCE   0x0004 /* no reference cell (age, site) */
#define QST_RES_UNDEFINED      0x0008 /* value NaN: zero/negative guard */
#define QST_RES_REF_FLAGGED    0x0010 /* reference cell marked ⚠ (§4.1) */
#define QST_RES_NOT_Z_SCORED   0x0020 /* PHS, DMA (§3.6) */
#define QST_RES_NOT_DONE       0x0040 /* no trials recorded */
#define QST_RES_FEW_TRIALS     0x0080 /* fewer trials than the procedure asks */
#define QST_RES_RESPONSE_SUSPECT 0x0100 /* a trial was flagged suspect */

/* ------------------------------------------------------- reference table */

struct qst_reftable;

struct qst_refcell {
	double mean;
	double sd;
	int age_band;       /* 1..5 */
	bool flagged;       /* ⚠ cell, verify before clinical use */
	char stratum[48];   /* e.g. "hand/F/30-39" */
};

/*
 * Load a reference CSV (analysis/reference/NAME.csv). If PATH.sha256 exists the
 * file's SHA-256 must match it (QST_ERR_CHECKSUM otherwise). errbuf gets a
 * one-line reason naming the file and line on failure.
 */
int qst_reftable_load(const char *path, struct qst_reftable **out,
		      char *errbuf, size_t errlen);
void qst_reftable_free(struct qst_reftable *t);
const char *qst_reftable_id(const struct qst_reftable *t);
const char *qst_reftable_source(const struct qst_reftable *t);
const char *qst_reftable_sha256(const struct qst_reftable *t);
/* QST_ERR_NOTFOUND when the table has no such cell (→ NO_REFERENCE). */
int qst_reftable_lookup(const struct qst_reftable *t, enum qst_param p,
			const char *site, char sex, double age_years,
			struct qst_refcell *out);
/* Default table path: $QST_DATADIR or the build-time data dir. */
const char *qst_reftable_default_path(void);

/* ---------------------------------------------------------------- z-score */

/* z = (x - mean)/sd, times -1 where the sign map says so (§3.1, §3.2). */
double qst_zscore(enum qst_param p, double transformed, double mean,
		  double sd);
/* -1 loss, 0 normal, +1 gain: |z| > 1.96 (§3.5); NaN → 0. */
int qst_abnormal(double z);

/* ------------------------------------------------------- trials → values */

/* One recorded trial as analysis sees it (from the trial table). */
struct qst_trial_view {
	enum qst_param test;  /* CDT, WDT, TSL, CPT, HPT, ... */
	int repetition;       /* 1-based within the test */
	int direction;        /* +1 warming / ascending, -1 cooling / descending */
	double value;         /* measured value at response: °C absolute for thermal */
	double baseline;      /* °C, thermal tests */
	int quality;          /* enum qst_quality (TSL quality label) */
	unsigned flags;       /* QST_TRIAL_* from the recorder */
};

/* TSL quality labels (what the subject said a change felt like). */
enum qst_quality {
	QST_QUALITY_NONE = 0,
	QST_QUALITY_COLD = 1,
	QST_QUALITY_WARM = 2,
	QST_QUALITY_HOT = 3,
	QST_QUALITY_BURNING = 4,
	QST_QUALITY_COUNT
};
const char *qst_quality_name(int q);

/* Trial flags (also the recorder's trial-table `flags` column). */
#define QST_TRIAL_CUTOFF_REACHED   0x0001
#define QST_TRIAL_RESPONSE_SUSPECT 0x0002 /* press < 100 ms after onset (§7.5) */
#define QST_TRIAL_ABORTED          0x0004
#define QST_TRIAL_NO_READBACK      0x0008 /* value is the commanded one */
#define QST_TRIAL_OUT_OF_RANGE     0x0010 /* end point off the stimulus set (§2.4, §2.5) */
#define QST_TRIAL_ADAPTIVE         0x0020 /* a presentation of levels/staircase (§7.2, §7.3): not a DFNS value */
#define QST_TRIAL_CATCH            0x0040 /* a null stimulus (§7.5); a press is a false alarm */
#define QST_TRIAL_FLAG_BITS        7      /* bits named in /lookup/trial_flag_names */

struct qst_subject {
	char sex;          /* 'F' or 'M' */
	double age_years;
	char site[32];     /* "hand", "foot", "face", ... */
};

struct qst_result {
	enum qst_param param;
	int n;                    /* trials used */
	double value_raw;         /* aggregate in raw units (°C, count, ...) */
	double value_transformed; /* in the z domain (§3.3) */
	double ref_mean, ref_sd;  /* NaN when no reference */
	double z;                 /* NaN when not z-scored / no reference */
	int abnormal;             /* -1 loss, 0 normal, +1 gain/abnormal */
	unsigned flags;           /* QST_RES_* */
	char stratum[48];
};

/*
 * Compute every parameter that has trials. Parameters without trials get
 * QST_RES_NOT_DONE. ref may be NULL (all NO_REFERENCE).
 */
int qst_analyze_trials(const struct qst_trial_view *trials, size_t n,
		       const struct qst_subject *subject,
		       const struct qst_reftable *ref,
		       struct qst_result out[QST_PARAM_COUNT]);

/* Print the parameter table for the operator (only done parameters). */
void qst_results_print(FILE *f, const struct qst_result res[QST_PARAM_COUNT],
		       const struct qst_subject *subject,
		       const struct qst_reftable *ref);

#endif
