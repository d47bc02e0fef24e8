/*
 * The named limits a station file or a protocol may tighten
 * (qst_supervisor.h, docs/station-config.md). The loose end of every range
 * is the compiled-in default (qst_thermal_limits_default, qst-domain.md
 * §8.1–§8.3); the strict end is our sanity bound [U]: stricter than it the
 * station would refuse or abort everything, which is a typo, not a rule.
 */
#define LOG_PREFIX "supervisor: "

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qst_supervisor.h"

#define LIM(g, n, u, sense, strict, proto)                                 \
	{ g, #n, u, QST_LIMIT_##sense, strict, proto,                      \
	  offsetof(struct qst_thermal_limits, n), false }
#define LIM_NS(g, n, field, strict)                                        \
	{ g, n, "s", QST_LIMIT_CEILING, strict, false,                     \
	  offsetof(struct qst_thermal_limits, field), true }

static const struct qst_limit_key keys[] = {
	/* §8.2 interlock 1: 0–50 °C. */
	LIM("thermal", min_c, "°C", FLOOR, 50.0, true),
	LIM("thermal", max_c, "°C", CEILING, 0.0, true),
	LIM("thermal", max_rate_c_s, "°C/s", CEILING, 0.1, true),
	/* §8.1: the TCS II baseline range 20–40 °C. */
	LIM("thermal", neutral_min_c, "°C", FLOOR, 40.0, true),
	LIM("thermal", neutral_max_c, "°C", CEILING, 20.0, true),
	/* §8.2 interlock 2: holds at ≥ 48 °C at most 30 s; dose guard. */
	LIM("thermal", long_hold_c, "°C", CEILING, 20.0, true),
	LIM("thermal", long_hold_max_s, "s", CEILING, 0.0, true),
	LIM("thermal", dose_threshold_c, "°C", CEILING, 30.0, true),
	LIM("thermal", dose_budget_s, "s", CEILING, 0.0, true),
	/* A longer window is stricter; beyond an hour the guard's span
	 * store (QST_DOSE_MAX_SPANS) may no longer cover it. */
	LIM("thermal", dose_window_s, "s", FLOOR, 3600.0, true),
	/* §8.2 interlock 5: the neutral a fault returns to. */
	LIM("thermal", safe_neutral_c, "°C", SETTING, 0.0, false),
	/* §8.2 interlock 3; the strict ends keep the 100 Hz stream's
	 * jitter and the plate's lag (supervisor.c) from false alarms. */
	LIM("thermal", readback_margin_c, "°C", CEILING, 0.2, false),
	LIM_NS("thermal", "readback_timeout_s", readback_timeout_ns, 0.05),
	LIM_NS("thermal", "readback_idle_timeout_s", readback_idle_timeout_ns,
	       1.5),
	LIM("thermal", track_tol_c, "°C", CEILING, 0.5, false),
	LIM_NS("thermal", "track_time_s", track_time_ns, 0.1),
	/* §8.3: the algometer ceiling, per probe in a station file. */
	LIM("pressure", max_kpa, "kPa", CEILING, 10.0, true),
	LIM("vibration", max_vpp, "Vpp", CEILING, 0.01, true),
	{ NULL, NULL, NULL, QST_LIMIT_SETTING, 0.0, false, 0, false },
};

const struct qst_limit_key *qst_limit_keys(void)
{
	return keys;
}

const struct qst_limit_key *qst_limit_key_find(const char *group,
					       const char *name)
{
	for (const struct qst_limit_key *k = keys; k->name; k++)
		if ((!group || strcmp(group, k->group) == 0) &&
		    strcmp(name, k->name) == 0)
			return k;
	return NULL;
}

double qst_limit_get(const struct qst_thermal_limits *lim,
		     const struct qst_limit_key *k)
{
	const char *base = (const char *)lim + k->offset;
	if (k->ns) {
		int64_t ns;
		memcpy(&ns, base, sizeof(ns));
		return qst_ns_to_s(ns);
	}
	double v;
	memcpy(&v, base, sizeof(v));
	return v;
}

static void limit_set(struct qst_thermal_limits *lim,
		      const struct qst_limit_key *k, double v)
{
	char *base = (char *)lim + k->offset;
	if (k->ns) {
		int64_t ns = qst_s_to_ns(v);
		memcpy(base, &ns, sizeof(ns));
	} else {
		memcpy(base, &v, sizeof(v));
	}
}

/* The full range of a key: strict end to the compiled-in default. */
static void key_range(const struct qst_limit_key *k, double *lo, double *hi)
{
	struct qst_thermal_limits def;
	qst_thermal_limits_default(&def);
	double loose = qst_limit_get(&def, k);
	if (k->sense == QST_LIMIT_SETTING) { /* within the baseline range */
		*lo = def.neutral_min_c;
		*hi = def.neutral_max_c;
	} else if (k->sense == QST_LIMIT_CEILING) {
		*lo = k->strict;
		*hi = loose;
	} else {
		*lo = loose;
		*hi = k->strict;
	}
}

static bool looser(const struct qst_limit_key *k, double v, double now)
{
	return k->sense == QST_LIMIT_CEILING ? v > now :
	       k->sense == QST_LIMIT_FLOOR   ? v < now : false;
}

int qst_limit_tighten(struct qst_thermal_limits *lim,
		      const struct qst_limit_key *k, double v,
		      const char *than, char *why, size_t whylen)
{
	double lo, hi, now = qst_limit_get(lim, k);
	key_range(k, &lo, &hi);
	if (isfinite(v) && looser(k, v, now)) {
		snprintf(why, whylen, "%s = %g %s is looser than %s %g %s",
			 k->name, v, k->unit, than, now, k->unit);
		return QST_ERR_LIMIT;
	}
	if (!isfinite(v)) {
		snprintf(why, whylen, "%s is not a finite number", k->name);
		return QST_ERR_ARG;
	}
	if (v < lo || v > hi) {
		snprintf(why, whylen, "%s = %g %s is out of range (allowed: %g to %g %s)",
			 k->name, v, k->unit, lo, hi, k->unit);
		return QST_ERR_ARG;
	}
	limit_set(lim, k, v);
	return QST_OK;
}

int qst_limits_consistent(const struct qst_thermal_limits *lim, char *why,
			  size_t whylen)
{
	if (!(lim->min_c < lim->max_c))
		snprintf(why, whylen, "min_c %g °C must be below max_c %g °C",
			 lim->min_c, lim->max_c);
	else if (!(lim->neutral_min_c <= lim->neutral_max_c))
		snprintf(why, whylen,
			 "neutral_min_c %g °C must not be above neutral_max_c %g °C",
			 lim->neutral_min_c, lim->neutral_max_c);
	else if (lim->neutral_min_c < lim->min_c || lim->neutral_max_c > lim->max_c)
		snprintf(why, whylen,
			 "the baseline range %g-%g °C must lie within min_c-max_c %g-%g °C",
			 lim->neutral_min_c, lim->neutral_max_c, lim->min_c,
			 lim->max_c);
	else if (lim->safe_neutral_c < lim->neutral_min_c ||
		 lim->safe_neutral_c > lim->neutral_max_c)
		snprintf(why, whylen,
			 "safe_neutral_c %g °C must lie within the baseline range %g-%g °C",
			 lim->safe_neutral_c, lim->neutral_min_c, lim->neutral_max_c);
	else
		return QST_OK;
	return QST_ERR_ARG;
}
