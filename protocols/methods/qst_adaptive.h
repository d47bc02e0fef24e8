/*
 * qst adaptive methods — the decision cores of the reaction-time-exclusive
 * psychophysical methods (qst-domain.md §7.2, §7.3, §7.5): state machines
 * that are told each response and say which level comes next, whether the
 * run is done and what the threshold is. They touch no device and keep no
 * clock, so every rule is unit-testable; the rig-driven runners in
 * qst_methods.h present the levels they choose.
 *
 * Levels are in the stimulus unit (°C for the thermode). `direction` says
 * which way is more intense: +1 heat (higher = more), −1 cold (lower =
 * more). "Up" below always means more intense.
 */
#ifndef QST_PROTOCOLS_METHODS_QST_ADAPTIVE_H
#define QST_PROTOCOLS_METHODS_QST_ADAPTIVE_H

#include <stdbool.h>
#include <stdint.h>

/* What qst_*_respond returns (>= 0; a negative qst_err on misuse). */
enum qst_adapt_state {
	QST_ADAPT_CONTINUE = 0, /* present qst_*_level() next */
	QST_ADAPT_DONE = 1,     /* finished: see threshold and end reason */
};

/* Why a run ended (bitmask: a reason and qualifiers). Append only. */
#define QST_ADAPT_END_MIN_STEP   0x01 /* levels: step fell below the minimum */
#define QST_ADAPT_END_REVERSALS  0x02 /* staircase: reversal count reached */
#define QST_ADAPT_END_MAX_TRIALS 0x04 /* trial cap reached first */
#define QST_ADAPT_END_CEILING    0x08 /* no YES at the most intense level */
#define QST_ADAPT_END_FLOOR      0x10 /* YES at the least intense level */
#define QST_ADAPT_END_TARGET     0x20 /* rating target met (or bracketed) */
#define QST_ADAPT_FEW_REVERSALS  0x40 /* threshold from fewer than k reversals */

/* ------------------------------------------------ method of levels (§7.2) */

struct qst_levels_rule {
	int direction;        /* +1 heat, -1 cold */
	double start;         /* first level, e.g. baseline + direction × step */
	double initial_step;  /* > 0 */
	double min_step;      /* > 0: stop when the step falls below it */
	double floor;         /* least intense level allowed (e.g. baseline) */
	double ceiling;       /* most intense level allowed (the cut-off) */
	int max_trials;       /* > 0: stop after this many responses */
};

struct qst_levels {
	struct qst_levels_rule rule;
	double level;         /* the level to present next */
	double step;
	int last_move;        /* +1 up, -1 down, 0 before the first YES */
	bool seen_yes;        /* past the ascending phase */
	double last_yes, last_no; /* NaN until seen */
	int trials;
	bool done;
	unsigned end;         /* QST_ADAPT_END_* once done */
};

/* QST_ERR_ARG for an inconsistent rule (start outside floor..ceiling, a
 * step <= 0, direction not ±1, max_trials < 1). */
int qst_levels_init(struct qst_levels *lv, const struct qst_levels_rule *r);
double qst_levels_level(const struct qst_levels *lv);
/* Feed the answer to the level just presented. */
int qst_levels_respond(struct qst_levels *lv, bool yes);
/* Mean of the last YES and the last NO; NaN until both exist. */
double qst_levels_threshold(const struct qst_levels *lv);

/* ------------------------------------------ up–down staircases (§7.3) */

struct qst_staircase_rule {
	int direction;        /* +1: higher = more intense, -1: lower */
	int n_down;           /* YES in a row for one step down: 1, 2 or 3 */
	double start;
	double step;          /* > 0 */
	double min_step;      /* shrinking: halve at each reversal down to it;
			       * fixed steps: min_step = step */
	int max_reversals;    /* stop at this many reversals (> 0) */
	int max_trials;       /* and after this many trials (> 0) */
	int last_k;           /* threshold = mean of the last k reversals */
	double floor, ceiling; /* clamps (least, most intense) */
};

#define QST_STAIRCASE_MAX_REVERSALS 64

struct qst_staircase {
	struct qst_staircase_rule rule;
	double level;
	double step;
	int run_yes;          /* consecutive YES at the current level */
	int last_move;        /* +1 up, -1 down, 0 before the first move */
	int trials;
	int n_reversals;
	double reversal[QST_STAIRCASE_MAX_REVERSALS];
	bool done;
	unsigned end;
};

int qst_staircase_init(struct qst_staircase *s,
		       const struct qst_staircase_rule *r);
double qst_staircase_level(const struct qst_staircase *s);
int qst_staircase_respond(struct qst_staircase *s, bool yes);
/* Mean of the last min(k, n) reversal levels; NaN with none. */
double qst_staircase_threshold(const struct qst_staircase *s);
/* The point a 1-up/n-down rule converges on: 0.5^(1/n) (Levitt 1971). */
double qst_staircase_target(int n_down);

/* ------------------------------ rating-target calibration (§7.3 "Pain5") */

/* Rating scales, stored with every rating (§7.4). Append only. */
enum qst_rating_scale {
	QST_SCALE_NRS100 = 0, /* 0..100 NRS (DFNS) */
	QST_SCALE_NRS10 = 1,  /* 0..10 NRS (S21 Pain5) */
	QST_SCALE_COUNT
};
const char *qst_rating_scale_name(int scale); /* "nrs100", "nrs10" */
double qst_rating_scale_max(int scale);       /* 100, 10; NaN if unknown */

struct qst_rating_target_rule {
	int direction;        /* +1 heat (a low rating means hotter), -1 cold */
	double start;         /* e.g. 45 °C */
	double step;          /* e.g. 1 °C */
	double target;        /* e.g. 5 on nrs10 */
	double tolerance;     /* |rating − target| <= tolerance stops, >= 0 */
	bool bracket;         /* also stop when two successive ratings lie
			       * on either side of the target */
	double floor, ceiling; /* the level never leaves [floor, ceiling] */
	int max_pulses;
	int scale;            /* enum qst_rating_scale */
};

struct qst_rating_target {
	struct qst_rating_target_rule rule;
	double level;
	double prev_level, prev_rating; /* NaN before the first pulse */
	int pulses;
	bool done;
	unsigned end;
	double result;        /* the calibrated level, NaN if none */
};

int qst_rating_target_init(struct qst_rating_target *c,
			   const struct qst_rating_target_rule *r);
double qst_rating_target_level(const struct qst_rating_target *c);
/* QST_ERR_ARG for a rating off the scale (never taken as data). */
int qst_rating_target_respond(struct qst_rating_target *c, double rating);

/* --------------------------------------- catch (null) trials (§7.5) */

struct qst_catch {
	uint64_t state;       /* own generator: the schedule is the seed's */
	double proportion;    /* 0 ..< 1 */
	int n_catch;
	int n_false_alarms;
};

/* QST_ERR_ARG for a proportion outside [0, 1). */
int qst_catch_init(struct qst_catch *c, double proportion, uint64_t seed);
/* Whether the next presentation is a null stimulus. */
bool qst_catch_next(struct qst_catch *c);
/* The answer to a null stimulus: YES is a false alarm. */
void qst_catch_record(struct qst_catch *c, bool yes);

#endif
