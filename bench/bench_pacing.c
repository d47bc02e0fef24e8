/*
 * Pulse-train pacing (issue 6; qst-domain.md §6.1, §7.6): how late the
 * command of each pulse goes out against its schedule t0 + k * period.
 * In one run, on the same schedule:
 *   (a) the station's pacer (qst_pacer_wait_mono: coarse sleep to a
 *       margin before the deadline, then a spin to it), and
 *   (b) the baseline: a plain clock_nanosleep(TIMER_ABSTIME) loop.
 * Each "command" is a 2-byte write to a pipe, stamped on CLOCK_MONOTONIC
 * just before the write, as the session stamps a pulse's command time.
 * The two alternate in blocks of BLOCK pulses, each block on a schedule
 * of its own, so that both meet the same load (the machine may be shared).
 * Prints p50/p99/max lateness of both and p99(pacer)/p99(plain), and
 * whether real-time mode (mlockall + SCHED_FIFO) was granted. Issue
 * target, in real-time mode: pacer p50 < 10 us, p99 <= 1/4 of the plain
 * loop's p99. Nothing is asserted: the figures depend on the machine.
 *
 *   build/bench/bench_pacing [--pulses N] [--period-ms MS] [--slow]
 *                            [--no-realtime] [--margin-us US]
 * --slow: 2 s periods (the TSP schedule itself; N defaults to 30 then).
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qst_core.h"

struct opts {
	int pulses;
	double period_ms;
	bool realtime;
	double margin_us;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t pct(const int64_t *sorted, int n, double q)
{
	int i = (int)ceil(q * n) - 1;
	return sorted[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void report(const char *what, int64_t *late, int n, int64_t *p99)
{
	qsort(late, (size_t)n, sizeof(*late), cmp_i64);
	*p99 = pct(late, n, 0.99);
	printf("%-32s %10.1f %10.1f %10.1f\n", what, pct(late, n, 0.5) / 1e3,
	       *p99 / 1e3, late[n - 1] / 1e3);
}

/* The command of one pulse: stamped, then written (as rig_pulse does). */
static int64_t send_command(int fd)
{
	int64_t t = qst_monotonic_ns();
	if (write(fd, "L\r", 2) != 2)
		perror("write");
	return t;
}

static void drain(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

#define BLOCK 50

static void run_pacer(int n, int64_t period, int wfd, int rfd, int64_t *late,
		      struct qst_pacer *pacer)
{
	int64_t t0 = qst_monotonic_ns() + period;
	for (int k = 0; k < n; k++) {
		int64_t due = t0 + k * period;
		qst_pacer_wait_mono(pacer, due);
		late[k] = send_command(wfd) - due;
		drain(rfd);
	}
}

static void sleep_abs(int64_t mono_ns)
{
	struct timespec ts = { (time_t)(mono_ns / QST_NS_PER_S),
			       (long)(mono_ns % QST_NS_PER_S) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
}

static void run_plain(int n, int64_t period, int wfd, int rfd, int64_t *late)
{
	int64_t t0 = qst_monotonic_ns() + period;
	for (int k = 0; k < n; k++) {
		int64_t due = t0 + k * period;
		sleep_abs(due);
		late[k] = send_command(wfd) - due;
		drain(rfd);
	}
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ 1000, 20.0, true, 0.0 };
	bool slow = false, n_given = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--pulses") && v) {
			o->pulses = atoi(v);
			n_given = true;
			i++;
		} else if (!strcmp(a, "--period-ms") && v) {
			o->period_ms = atof(v);
			i++;
		} else if (!strcmp(a, "--margin-us") && v) {
			o->margin_us = atof(v);
			i++;
		} else if (!strcmp(a, "--slow")) {
			slow = true;
		} else if (!strcmp(a, "--no-realtime")) {
			o->realtime = false;
		} else {
			fprintf(stderr, "usage: %s [--pulses N] [--period-ms MS] "
				"[--slow] [--no-realtime] [--margin-us US]\n", argv[0]);
			return -1;
		}
	}
	if (slow) {
		o->period_ms = 2000.0;
		if (!n_given)
			o->pulses = 30;
	}
	if (o->pulses < 1 || !(o->period_ms >= 1.0)) {
		fprintf(stderr, "need --pulses >= 1 and --period-ms >= 1\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) < 0)
		return 2;
	qst_log_set_level(QST_LOG_WARN);
	int fds[2];
	if (pipe(fds) < 0) {
		perror("pipe");
		return 1;
	}
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	int64_t *late_pacer = calloc((size_t)o.pulses, sizeof(int64_t));
	int64_t *late_plain = calloc((size_t)o.pulses, sizeof(int64_t));
	if (!late_pacer || !late_plain)
		return 1;
	struct qst_realtime rt = { 0 };
	if (o.realtime)
		qst_realtime_enter(&rt, QST_REALTIME_PRIORITY);
	int64_t period = (int64_t)llround(o.period_ms * 1e6);
	struct qst_pacer pacer;
	qst_pacer_init(&pacer, (int64_t)llround(o.margin_us * 1e3));
	for (int done = 0; done < o.pulses; done += BLOCK) {
		int n = o.pulses - done < BLOCK ? o.pulses - done : BLOCK;
		run_plain(n, period, fds[1], fds[0], late_plain + done);
		run_pacer(n, period, fds[1], fds[0], late_pacer + done, &pacer);
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double load[1] = { NAN };
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &load[0]) != 1)
			load[0] = NAN;
		fclose(f);
	}
	printf("pulse command lateness, %d pulses every %.1f ms each, alternating "
	       "in blocks of %d (%ld CPUs, load average %.2f)\n", o.pulses,
	       o.period_ms, BLOCK, ncpu, load[0]);
	printf("real-time mode: %s\n", o.realtime ? rt.what : "not requested");
	printf("%-32s %10s %10s %10s\n", "", "p50 us", "p99 us", "max us");
	int64_t p99_pacer, p99_plain;
	report("(a) qst pacer", late_pacer, o.pulses, &p99_pacer);
	report("(b) plain clock_nanosleep", late_plain, o.pulses, &p99_plain);
	printf("pacer: final margin %.0f us, %llu of %llu coarse sleeps "
	       "overshot\n", pacer.margin_ns / 1e3,
	       (unsigned long long)pacer.late_waits,
	       (unsigned long long)pacer.waits);
	printf("ratio p99(pacer)/p99(plain) = %.3f (target <= 0.25; pacer p50 "
	       "target < 10 us, in real-time mode)\n",
	       p99_plain > 0 ? (double)p99_pacer / (double)p99_plain : NAN);
	if (o.realtime)
		qst_realtime_leave(&rt);
	free(late_pacer);
	free(late_plain);
	close(fds[0]);
	close(fds[1]);
	return 0;
}
