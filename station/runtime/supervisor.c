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
		.track_tol_c = 2.0,
		.track_time_ns = QST_NS_PER_S,
		.safe_neutral_c = 32.0,
		.link_noise_gap_ns = 250 * QST_NS_PER_MS,
		.link_noise_max_ns = QST_NS_PER_S,
		.max_kpa = 2200.0,
		.dose_threshold_c = 45.0,
		.dose_budget_s = 120.0,
		.dose_window_s = 600.0,
		.max_vpp = 10.0,
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

/* Rates are compared with a little slack for the division (a 16 °C
 * segment of 1.6 s is 10 °C/s, not 10.000000000000002). */
#define RATE_SLACK 1e-9

static int check_segment(const struct qst_thermal_limits *lim, size_t i,
			 double from_c, const struct qst_wave_segment *g,
			 char *why, size_t whylen)
{
	if (!isfinite(g->to_c) || !isfinite(g->duration_s) || g->duration_s <= 0)
		return refuse(why, whylen, "waveform segment %zu: not a finite "
			      "temperature with a duration > 0", i + 1);
	if (g->to_c > lim->max_c)
		return refuse(why, whylen, "waveform segment %zu: %.1f degC is above "
			      "the station maximum of %.1f degC", i + 1, g->to_c,
			      lim->max_c);
	if (g->to_c < lim->min_c)
		return refuse(why, whylen, "waveform segment %zu: %.1f degC is below "
			      "the station minimum of %.1f degC", i + 1, g->to_c,
			      lim->min_c);
	double rate = fabs(g->to_c - from_c) / g->duration_s;
	if (rate > lim->max_rate_c_s * (1 + RATE_SLACK))
		return refuse(why, whylen, "waveform segment %zu: %.1f -> %.1f degC "
			      "in %.3f s is %.2f degC/s, above the %.1f degC/s "
			      "ceiling", i + 1, from_c, g->to_c, g->duration_s,
			      rate, lim->max_rate_c_s);
	return QST_OK;
}

int qst_supervisor_check_waveform(const struct qst_thermal_limits *lim,
				  double from_c,
				  const struct qst_wave_segment *seg, size_t n,
				  double return_c_s, char *why, size_t whylen)
{
	if (!seg || n == 0 || n > QST_WAVE_MAX_SEGMENTS)
		return refuse(why, whylen, "a waveform has 1 to %d segments, not %zu",
			      QST_WAVE_MAX_SEGMENTS, n);
	if (!isfinite(from_c))
		return refuse(why, whylen, "waveform: the starting temperature is "
			      "unknown");
	double hot_s = 0; /* held at or above long_hold_c without a break */
	for (size_t i = 0; i < n; i++) {
		int ret = check_segment(lim, i, from_c, &seg[i], why, whylen);
		if (ret < 0)
			return ret;
		bool hot = from_c >= lim->long_hold_c && seg[i].to_c >= lim->long_hold_c;
		hot_s = hot ? hot_s + seg[i].duration_s : 0;
		if (hot_s > lim->long_hold_max_s)
			return refuse(why, whylen, "waveform segment %zu: %.1f s at or "
				      "above %.1f degC; at most %.0f s", i + 1, hot_s,
				      lim->long_hold_c, lim->long_hold_max_s);
		from_c = seg[i].to_c;
	}
	if (!isfinite(return_c_s) || return_c_s <= 0.0 ||
	    return_c_s > lim->max_rate_c_s)
		return refuse(why, whylen,
			      "return rate %.2f degC/s is outside (0, %.1f] degC/s",
			      return_c_s, lim->max_rate_c_s);
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

int qst_supervisor_check_vibration(double max_vpp, double vpp, char *why,
				   size_t whylen)
{
	if (!isfinite(vpp) || vpp > max_vpp)
		return refuse(why, whylen,
			      "vibration amplitude %.2f Vpp is above the %.2f Vpp ceiling",
			      vpp, max_vpp);
	return QST_OK;
}

/*
 * Why 2 °C for 1 s is safe from false alarms on a healthy thermode: the
 * plate lags the setpoint by rate × time constant, at most 10 °C/s ×
 * 50 ms = 0.5 °C within the supervisor's rate ceiling (the simulator's
 * lag; the TCS II probes ramp far faster than 10 °C/s), and a ramp
 * reversal costs one lag time. A plate that stops following a 1 °C/s
 * ramp is caught about 3 s after it stopped; one that falls away fast
 * about 1 s after.
 */
void qst_tracking_reset(struct qst_tracking *tr)
{
	*tr = (struct qst_tracking){ .out = false };
}

int qst_supervisor_check_tracking(const struct qst_thermal_limits *lim,
				  struct qst_tracking *tr, int64_t t_ns,
				  double measured_c, double commanded_c,
				  char *why, size_t whylen)
{
	double off = measured_c - commanded_c;
	if (!isfinite(off) || fabs(off) <= lim->track_tol_c) {
		qst_tracking_reset(tr);
		return QST_OK;
	}
	if (!tr->out || t_ns < tr->since_ns) {
		tr->out = true;
		tr->since_ns = t_ns;
	}
	int64_t lasted = t_ns - tr->since_ns;
	if (lasted < lim->track_time_ns)
		return QST_OK;
	/* The difference of the numbers shown, so the message adds up. */
	double m = round(measured_c * 10.0) / 10.0;
	double c = round(commanded_c * 10.0) / 10.0;
	snprintf(why, whylen,
		 "thermode readback %.1f °C diverges from command %.1f °C by "
		 "%.1f °C for %.2f s", m, c, fabs(m - c), qst_ns_to_s(lasted));
	qst_warn("%s", why);
	return QST_ERR_LIMIT;
}

/*
 * [U] qst-domain.md gives no rule for a noisy link. A resynchronising
 * parser loses at most the messages the noise touched, so a short burst
 * costs a few readback lines; noise that goes on for 1 s means a link
 * that cannot be trusted (a missed or phantom key press is then likely),
 * and reports 250 ms apart still count as the same stretch because a
 * noisy link delivers its bytes in bursts.
 */
void qst_link_noise_reset(struct qst_link_noise *ln)
{
	*ln = (struct qst_link_noise){ .noisy = false };
}

int qst_supervisor_check_noise(const struct qst_thermal_limits *lim,
			       struct qst_link_noise *ln, const char *device,
			       int64_t t_ns, uint64_t bytes, char *why,
			       size_t whylen)
{
	int fresh = !ln->noisy || t_ns - ln->last_ns > lim->link_noise_gap_ns ||
		    t_ns < ln->last_ns;
	if (fresh) {
		ln->noisy = true;
		ln->first_ns = t_ns;
		ln->bytes = 0;
	}
	ln->last_ns = t_ns;
	ln->bytes += bytes;
	if (t_ns - ln->first_ns < lim->link_noise_max_ns)
		return fresh;
	snprintf(why, whylen,
		 "%s link corrupt for %.2f s (%llu bytes discarded)", device,
		 qst_ns_to_s(t_ns - ln->first_ns), (unsigned long long)ln->bytes);
	qst_warn("%s", why);
	return QST_ERR_LIMIT;
}
