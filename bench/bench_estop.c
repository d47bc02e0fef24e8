/*
 * Emergency-stop latency (issue 7 item 3: the abort command on the wire
 * within 50 ms). A real-time simulated heat session runs; a second thread
 * raises the stop request — what the Ctrl-C handler does — at a random
 * moment during the heat ramps, noting CLOCK_MONOTONIC. The session notes
 * the same clock once the thermode's abort command has been written. The
 * figure is the difference: median, p99 and max over N sessions.
 *
 * Baseline in the same run: a plain loop that polls the same flag every
 * 5 ms with clock_nanosleep (the slice the session uses) and only notes
 * the time: the part of the latency that is the polling alone.
 *
 *   build/bench/bench_estop [N]
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qst_session.h"

static const char protocol[] =
	"qst.protocol{ name = 'stop bench', version = '1', "
	"devices = { 'thermal', 'response' } }\n"
	"qst.limits{ test = 'HPT', repetitions = 5, isi = 0.5, isi_jitter = 0 }\n";

static volatile sig_atomic_t stop_flag;

struct raiser {
	int64_t delay_ns;
	int64_t raised_ns;
};

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { ns / QST_NS_PER_S, ns % QST_NS_PER_S };
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

static void *raise_stop(void *arg)
{
	struct raiser *r = arg;
	sleep_ns(r->delay_ns);
	r->raised_ns = qst_monotonic_ns();
	stop_flag = 1;
	return NULL;
}

static void *plain_poll(void *arg)
{
	int64_t *seen = arg;
	while (!stop_flag)
		sleep_ns(QST_ESTOP_POLL_NS);
	*seen = qst_monotonic_ns();
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *what, double *ms, int n)
{
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	int p99 = (int)ceil(0.99 * n) - 1;
	printf("%-34s %9.3f %9.3f %9.3f\n", what, ms[n / 2], ms[p99 < 0 ? 0 : p99],
	       ms[n - 1]);
}

static void config(struct qst_session_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->protocol_path = "bench_estop";
	cfg->protocol_text = protocol;
	cfg->protocol_len = strlen(protocol);
	snprintf(cfg->meta.subject_id, sizeof(cfg->meta.subject_id), "BENCH01");
	cfg->meta.sex = 'F';
	cfg->meta.age_years = 35;
	snprintf(cfg->meta.site, sizeof(cfg->meta.site), "hand");
	cfg->station.clock_mode = QST_CLOCK_REAL;
	qst_participant_profile_builtin("unresponsive", &cfg->station.participant);
	qst_thermal_limits_default(&cfg->limits);
	cfg->script_limits.memory_bytes = QST_SCRIPT_DEFAULT_MEMORY;
	cfg->script_limits.instructions = QST_SCRIPT_DEFAULT_INSTRUCTIONS;
	cfg->stop_request = &stop_flag;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	if (n < 1)
		n = 1;
	double *session_ms = calloc((size_t)n, sizeof(double));
	double *plain_ms = calloc((size_t)n, sizeof(double));
	struct qst_session_config cfg;
	config(&cfg);
	qst_log_set_level(QST_LOG_ERR);
	srand(1);
	for (int i = 0; i < n; i++) {
		/* Into the first heat ramp (after the 0.5 s rest), at random. */
		struct raiser r = { qst_s_to_ns(0.7 + 2.0 * rand() / RAND_MAX), 0 };
		pthread_t th;
		stop_flag = 0;
		cfg.station.seed = (uint64_t)i + 1;
		pthread_create(&th, NULL, raise_stop, &r);
		struct qst_session_summary sum;
		int ret = qst_session_run(&cfg, &sum);
		pthread_join(th, NULL);
		if (ret != QST_ERR_ABORTED || sum.stop_abort_mono_ns <= 0) {
			fprintf(stderr, "run %d did not stop: %s\n", i, sum.error);
			return 1;
		}
		session_ms[i] = (double)(sum.stop_abort_mono_ns - r.raised_ns) / 1e6;

		int64_t seen = 0;
		stop_flag = 0;
		r.delay_ns = qst_s_to_ns(0.05 + 0.1 * rand() / RAND_MAX);
		pthread_t poller;
		pthread_create(&poller, NULL, plain_poll, &seen);
		raise_stop(&r);
		pthread_join(poller, NULL);
		plain_ms[i] = (double)(seen - r.raised_ns) / 1e6;
	}
	printf("stop request -> abort command written, %d real-time sessions\n", n);
	printf("%-34s %9s %9s %9s\n", "", "median ms", "p99 ms", "max ms");
	report("session (poll + abort on the wire)", session_ms, n);
	report("baseline: plain 5 ms poll loop", plain_ms, n);
	printf("target: abort on the wire within 50 ms\n");
	free(session_ms);
	free(plain_ms);
	return 0;
}
