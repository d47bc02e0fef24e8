/*
 * The session clock (qst_core.h): real time on CLOCK_MONOTONIC, or a
 * virtual clock that only the station moves.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "qst_core.h"

static int64_t timespec_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * QST_NS_PER_S + ts->tv_nsec;
}

static struct timespec ns_to_timespec(int64_t ns)
{
	struct timespec ts;
	ts.tv_sec = (time_t)(ns / QST_NS_PER_S);
	ts.tv_nsec = (long)(ns % QST_NS_PER_S);
	if (ts.tv_nsec < 0) {
		ts.tv_sec -= 1;
		ts.tv_nsec += QST_NS_PER_S;
	}
	return ts;
}

int64_t qst_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return timespec_to_ns(&ts);
}

static int64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return timespec_to_ns(&ts);
}

void qst_clock_init(struct qst_clock *clock, enum qst_clock_mode mode)
{
	clock->mode = mode;
	clock->origin_mono_ns = qst_monotonic_ns();
	clock->virtual_ns = 0;
	clock->origin_utc_ns = realtime_ns();
}

int64_t qst_clock_now(const struct qst_clock *clock)
{
	if (clock->mode == QST_CLOCK_VIRTUAL)
		return clock->virtual_ns;
	return qst_monotonic_ns() - clock->origin_mono_ns;
}

void qst_clock_advance_to(struct qst_clock *clock, int64_t t_ns)
{
	if (clock->mode != QST_CLOCK_VIRTUAL)
		return;
	/* Time never runs backwards: recorded timestamps must stay ordered. */
	if (t_ns > clock->virtual_ns)
		clock->virtual_ns = t_ns;
}

void qst_clock_sleep_until(struct qst_clock *clock, int64_t t_ns)
{
	if (clock->mode == QST_CLOCK_VIRTUAL) {
		qst_clock_advance_to(clock, t_ns);
		return;
	}
	/* Absolute deadline: no drift accumulates over a long session. */
	struct timespec ts = ns_to_timespec(clock->origin_mono_ns + t_ns);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

double qst_ns_to_s(int64_t ns)
{
	return (double)ns / 1e9;
}

int64_t qst_s_to_ns(double s)
{
	return (int64_t)llround(s * 1e9);
}

void qst_format_utc(int64_t utc_ns, char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	struct timespec ts = ns_to_timespec(utc_ns);
	time_t secs = ts.tv_sec;
	struct tm tm;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "invalid-time");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}
