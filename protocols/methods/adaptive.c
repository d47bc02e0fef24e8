/*
 * Decision cores of the adaptive methods (qst-domain.md §7.2, §7.3, §7.5).
 * No devices, no clock: the runners (levels.c, staircase.c, calibrate.c)
 * present what these choose.
 */
#define LOG_PREFIX "adaptive: "

#include <math.h>
#include <string.h>

#include "qst_adaptive.h"
#include "qst_core.h"

/* ---------------------------------------------------------- helpers */

/* Intensity of a level: larger = more intense, whatever the direction. */
static double intensity(int direction, double level)
{
	return direction * level;
}

/* Keep a level within [floor, ceiling] counted in intensity. */
static double clamp_level(int direction, double floor, double ceiling,
			  double level)
{
	if (intensity(direction, level) > intensity(direction, ceiling))
		return ceiling;
	if (intensity(direction, level) < intensity(direction, floor))
		return floor;
	return level;
}

static bool at_level(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

static bool bounds_ok(int direction, double floor, double ceiling,
		      double start)
{
	if (direction != 1 && direction != -1)
		return false;
	if (!isfinite(floor) || !isfinite(ceiling) || !isfinite(start))
		return false;
	double lo = intensity(direction, floor), hi = intensity(direction, ceiling);
	double s = intensity(direction, start);
	return lo <= hi && s >= lo && s <= hi;
}

static bool positive(double x)
{
	return isfinite(x) && x > 0.0;
}

/* ------------------------------------------------ method of levels */

int qst_levels_init(struct qst_levels *lv, const struct qst_levels_rule *r)
{
	if (!lv || !r || !bounds_ok(r->direction, r->floor, r->ceiling, r->start) ||
	    !positive(r->initial_step) || !positive(r->min_step) ||
	    r->max_trials < 1) {
		qst_err("levels: inconsistent rule (start within floor..ceiling, "
			"steps > 0, direction ±1, max_trials >= 1)");
		return QST_ERR_ARG;
	}
	memset(lv, 0, sizeof(*lv));
	lv->rule = *r;
	lv->level = r->start;
	lv->step = r->initial_step;
	lv->last_yes = lv->last_no = NAN;
	return QST_OK;
}

double qst_levels_level(const struct qst_levels *lv)
{
	return lv->done ? NAN : lv->level;
}

static int levels_finish(struct qst_levels *lv, unsigned why)
{
	lv->done = true;
	lv->end |= why;
	return QST_ADAPT_DONE;
}

/* Move by the current step (move = +1 up, -1 down); a move blocked by a
 * clamp at the same level would repeat it forever, so it ends the run. */
static int levels_move(struct qst_levels *lv, int move)
{
	const struct qst_levels_rule *r = &lv->rule;
	double next = clamp_level(r->direction, r->floor, r->ceiling,
				  lv->level + move * r->direction * lv->step);
	if (at_level(next, lv->level))
		return levels_finish(lv, move > 0 ? QST_ADAPT_END_CEILING :
						    QST_ADAPT_END_FLOOR);
	lv->level = next;
	lv->last_move = move;
	return QST_ADAPT_CONTINUE;
}

int qst_levels_respond(struct qst_levels *lv, bool yes)
{
	if (lv->done)
		return QST_ERR_STATE;
	lv->trials++;
	if (yes)
		lv->last_yes = lv->level;
	else
		lv->last_no = lv->level;
	int move = yes ? -1 : +1;
	if (!lv->seen_yes) {
		/* §7.2 step 1: up by the initial step until the first YES;
		 * step 2: then down by half the step until a NO. */
		if (yes) {
			lv->seen_yes = true;
			lv->step /= 2.0;
		}
	} else if (move != lv->last_move) {
		/* §7.2 step 3: a NO means up, a YES down; the step halves at
		 * every change of direction. */
		lv->step /= 2.0;
	}
	/* §7.2 step 4: stop when the step falls below the minimum. */
	if (lv->step < lv->rule.min_step)
		return levels_finish(lv, QST_ADAPT_END_MIN_STEP);
	if (lv->trials >= lv->rule.max_trials)
		return levels_finish(lv, QST_ADAPT_END_MAX_TRIALS);
	return levels_move(lv, move);
}

double qst_levels_threshold(const struct qst_levels *lv)
{
	/* §7.2 step 5: the mean of the last YES and the last NO. */
	if (isnan(lv->last_yes) || isnan(lv->last_no))
		return NAN;
	return (lv->last_yes + lv->last_no) / 2.0;
}

/* ------------------------------------------------ up–down staircase */

int qst_staircase_init(struct qst_staircase *s,
		       const struct qst_staircase_rule *r)
{
	if (!s || !r || !bounds_ok(r->direction, r->floor, r->ceiling, r->start) ||
	    r->n_down < 1 || r->n_down > 3 || !positive(r->step) ||
	    !positive(r->min_step) || r->min_step > r->step ||
	    r->max_reversals < 1 ||
	    r->max_reversals > QST_STAIRCASE_MAX_REVERSALS ||
	    r->max_trials < 1 || r->last_k < 1) {
		qst_err("staircase: inconsistent rule (1-up/1..3-down, 0 < "
			"min_step <= step, 1..%d reversals, start within "
			"floor..ceiling)",
			QST_STAIRCASE_MAX_REVERSALS);
		return QST_ERR_ARG;
	}
	memset(s, 0, sizeof(*s));
	s->rule = *r;
	s->level = r->start;
	s->step = r->step;
	return QST_OK;
}

double qst_staircase_level(const struct qst_staircase *s)
{
	return s->done ? NAN : s->level;
}

double qst_staircase_target(int n_down)
{
	/* §7.3 (Levitt 1971): P(down) = p^n = 0.5 at equilibrium. */
	if (n_down < 1)
		return NAN;
	return pow(0.5, 1.0 / n_down);
}

/* The run's move after this answer: -1 down after n_down YES in a row,
 * +1 up after any NO (1-up), 0 while YES are accumulating. */
static int staircase_move(struct qst_staircase *s, bool yes)
{
	if (!yes) {
		s->run_yes = 0;
		return +1;
	}
	if (++s->run_yes < s->rule.n_down)
		return 0;
	s->run_yes = 0;
	return -1;
}

int qst_staircase_respond(struct qst_staircase *s, bool yes)
{
	if (s->done)
		return QST_ERR_STATE;
	const struct qst_staircase_rule *r = &s->rule;
	s->trials++;
	int move = staircase_move(s, yes);
	if (move != 0) {
		/* A reversal is a change of the direction of movement; its
		 * level is the one the turning answer was given at. */
		if (s->last_move != 0 && move != s->last_move) {
			s->reversal[s->n_reversals++] = s->level;
			/* §7.3 shrinking steps: halve at each reversal, down to
			 * the minimum (fixed steps have min_step = step). */
			s->step = fmax(s->step / 2.0, r->min_step);
		}
		s->last_move = move;
		s->level = clamp_level(r->direction, r->floor, r->ceiling,
				       s->level + move * r->direction * s->step);
	}
	if (s->n_reversals >= r->max_reversals)
		s->end |= QST_ADAPT_END_REVERSALS;
	if (s->trials >= r->max_trials)
		s->end |= QST_ADAPT_END_MAX_TRIALS;
	if (!s->end)
		return QST_ADAPT_CONTINUE;
	s->done = true;
	if (s->n_reversals < r->last_k)
		s->end |= QST_ADAPT_FEW_REVERSALS;
	return QST_ADAPT_DONE;
}

double qst_staircase_threshold(const struct qst_staircase *s)
{
	/* §7.3: the mean of the last k reversals. */
	int k = s->rule.last_k < s->n_reversals ? s->rule.last_k : s->n_reversals;
	if (k == 0)
		return NAN;
	double sum = 0.0;
	for (int i = s->n_reversals - k; i < s->n_reversals; i++)
		sum += s->reversal[i];
	return sum / k;
}

/* -------------------------------------- rating-target calibration */

const char *qst_rating_scale_name(int scale)
{
	switch (scale) {
	case QST_SCALE_NRS100:
		return "nrs100";
	case QST_SCALE_NRS10:
		return "nrs10";
	default:
		return "unknown";
	}
}

double qst_rating_scale_max(int scale)
{
	/* §7.4: typed scales, never converted into each other. */
	switch (scale) {
	case QST_SCALE_NRS100:
		return 100.0;
	case QST_SCALE_NRS10:
		return 10.0;
	default:
		return NAN;
	}
}

int qst_rating_target_init(struct qst_rating_target *c,
			   const struct qst_rating_target_rule *r)
{
	double top = r ? qst_rating_scale_max(r->scale) : NAN;
	if (!c || !r || !bounds_ok(r->direction, r->floor, r->ceiling, r->start) ||
	    !positive(r->step) || isnan(top) || !isfinite(r->target) ||
	    r->target < 0.0 || r->target > top || !isfinite(r->tolerance) ||
	    r->tolerance < 0.0 || r->max_pulses < 1) {
		qst_err("rating target: inconsistent rule (target on the scale, "
			"step > 0, tolerance >= 0, start within floor..ceiling)");
		return QST_ERR_ARG;
	}
	memset(c, 0, sizeof(*c));
	c->rule = *r;
	c->level = r->start;
	c->prev_level = c->prev_rating = c->result = NAN;
	return QST_OK;
}

double qst_rating_target_level(const struct qst_rating_target *c)
{
	return c->done ? NAN : c->level;
}

static int target_finish(struct qst_rating_target *c, unsigned why,
			 double result)
{
	c->done = true;
	c->end |= why;
	c->result = result;
	return QST_ADAPT_DONE;
}

/* Two ratings on either side of the target (neither within tolerance). */
static bool brackets(double target, double a, double b)
{
	return (a < target && b > target) || (a > target && b < target);
}

int qst_rating_target_respond(struct qst_rating_target *c, double rating)
{
	const struct qst_rating_target_rule *r = &c->rule;
	if (c->done)
		return QST_ERR_STATE;
	if (!isfinite(rating) || rating < 0.0 ||
	    rating > qst_rating_scale_max(r->scale))
		return QST_ERR_ARG;
	c->pulses++;
	/* §7.3 Pain5: "when the rating is 5, record the temperature". */
	if (fabs(rating - r->target) <= r->tolerance)
		return target_finish(c, QST_ADAPT_END_TARGET, c->level);
	/* Our generalisation: a subject who jumps from 4 to 6 across one
	 * step would loop for ever under equality alone; the target level
	 * then lies between the two, placed by linear interpolation. */
	if (r->bracket && !isnan(c->prev_rating) &&
	    brackets(r->target, c->prev_rating, rating)) {
		double w = (r->target - c->prev_rating) / (rating - c->prev_rating);
		return target_finish(c, QST_ADAPT_END_TARGET,
				     c->prev_level + w * (c->level - c->prev_level));
	}
	if (c->pulses >= r->max_pulses)
		return target_finish(c, QST_ADAPT_END_MAX_TRIALS, NAN);
	/* §7.3: below the target one step more intense, above one less. */
	int move = rating < r->target ? +1 : -1;
	double next = clamp_level(r->direction, r->floor, r->ceiling,
				  c->level + move * r->direction * r->step);
	if (at_level(next, c->level))
		return target_finish(c, move > 0 ? QST_ADAPT_END_CEILING :
						   QST_ADAPT_END_FLOOR, NAN);
	c->prev_level = c->level;
	c->prev_rating = rating;
	c->level = next;
	return QST_ADAPT_CONTINUE;
}

/* ------------------------------------------------- catch trials */

/* splitmix64: small, and the same sequence on every platform. */
static uint64_t next_u64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

int qst_catch_init(struct qst_catch *c, double proportion, uint64_t seed)
{
	if (!c || !isfinite(proportion) || proportion < 0.0 || proportion >= 1.0)
		return QST_ERR_ARG;
	memset(c, 0, sizeof(*c));
	c->state = seed;
	c->proportion = proportion;
	return QST_OK;
}

bool qst_catch_next(struct qst_catch *c)
{
	/* §7.5 [D]: null trials interspersed at random, Bernoulli(p). */
	double u = (double)(next_u64(&c->state) >> 11) * 0x1.0p-53;
	if (u >= c->proportion)
		return false;
	c->n_catch++;
	return true;
}

void qst_catch_record(struct qst_catch *c, bool yes)
{
	if (yes) /* §7.5: a YES to a null stimulus is a false alarm */
		c->n_false_alarms++;
}
