/*
 * The safety supervisor's rules (qst_supervisor.h).
 */
#define LOG_PREFIX "supervisor: "

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "qst_supervisor.h"

void qst_thermal_limits_default(struct qst_thermal_limits *lim)
{
	*lim = (struct qst_thermal_limits){
		.min_c = 0.0,
		.max_c = 50.0,
		.max_rate_c_s = 10.0,
		.neutral_min_c = 20.0,
		.neutral_max_c = 40.0,
		.long_hold_c = 48.0,
		.long_hold_max_s = 30.0,
		.readback_margin_c = 1.0,
		.readback_timeout_ns = 500 * QST_NS_PER_MS,
		.readback_idle_timeout_ns = 2500 * QST_NS_PER_MS,
		.max_kpa = 2200.0,
		.dose_threshold_c = 45.0,
		.dose_budget_s = 120.0,
		.dose_window_s = 600.0,
	};
}

static int refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	qst_warn("refused: %s", why);
	return QST_ERR_LIMIT;
}

static bool finite_all(double a, double b, double c, double d)
{
	return isfinite(a) && isfinite(b) && isfinite(c) && isfinite(d);
}

int qst_supervisor_check_ramp(const struct qst_thermal_limits *lim,
			      double target_c, double rate_c_s, double hold_s,
			      double return_c_s, char *why, size_t whylen)
{
	if (!finite_all(target_c, rate_c_s, hold_s, return_c_s))
		return refuse(why, whylen, "stimulus parameters are not finite numbers");
	if (target_c > lim->max_c)
		return refuse(why, whylen,
			      "target %.1f degC is above the station maximum of %.1f degC",
			      target_c, lim->max_c);
	if (target_c < lim->min_c)
		return refuse(why, whylen,
			      "target %.1f degC is below the station minimum of %.1f degC",
			      target_c, lim->min_c);
	if (rate_c_s <= 0.0 || rate_c_s > lim->max_rate_c_s)
		return refuse(why, whylen,
			      "ramp rate %.2f degC/s is outside (0, %.1f] degC/s",
			      rate_c_s, lim->max_rate_c_s);
	if (return_c_s <= 0.0 || return_c_s > lim->max_rate_c_s)
		return refuse(why, whylen,
			      "return rate %.2f degC/s is outside (0, %.1f] degC/s",
			      return_c_s, lim->max_rate_c_s);
	if (hold_s < 0.0)
		return refuse(why, whylen, "hold time %.1f s is negative", hold_s);
	if (target_c >= lim->long_hold_c && hold_s > lim->long_hold_max_s)
		return refuse(why, whylen,
			      "a hold at %.1f degC may last at most %.0f s",
			      target_c, lim->long_hold_max_s);
	return QST_OK;
}

int qst_supervisor_check_neutral(const struct qst_thermal_limits *lim,
				 double neutral_c, char *why, size_t whylen)
{
	if (!isfinite(neutral_c) || neutral_c < lim->neutral_min_c ||
	    neutral_c > lim->neutral_max_c)
		return refuse(why, whylen,
			      "baseline %.1f degC is outside the station's baseline range %.1f-%.1f degC",
			      neutral_c, lim->neutral_min_c, lim->neutral_max_c);
	return QST_OK;
}

int qst_supervisor_check_readback(const struct qst_thermal_limits *lim,
				  double measured_c, char *why, size_t whylen)
{
	if (measured_c > lim->max_c + lim->readback_margin_c)
		return refuse(why, whylen,
			      "thermode reads %.1f degC, above the %.1f degC maximum",
			      measured_c, lim->max_c);
	if (measured_c < lim->min_c - lim->readback_margin_c)
		return refuse(why, whylen,
			      "thermode reads %.1f degC, below the %.1f degC minimum",
			      measured_c, lim->min_c);
	return QST_OK;
}

int qst_supervisor_check_pressure(const struct qst_thermal_limits *lim,
				  double kpa, char *why, size_t whylen)
{
	if (kpa > lim->max_kpa)
		return refuse(why, whylen,
			      "algometer reads %.0f kPa, above the %.0f kPa ceiling",
			      kpa, lim->max_kpa);
	return QST_OK;
}
