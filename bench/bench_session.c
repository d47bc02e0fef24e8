/*
 * How fast a whole simulated DFNS thermal session runs on the virtual
 * clock: wall time per session (median, p90, max over N seeds), with and
 * without recording, and the ratio of session time to wall time.
 *
 *   build/bench/bench_session [PROTOCOL.lua] [N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qst_session.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *sorted, int n, double p)
{
	int i = (int)ceil(p * n) - 1;
	return sorted[i < 0 ? 0 : i];
}

static int run_series(struct qst_session_config *cfg, int n, bool record,
		      double *wall, double *session_s)
{
	char path[] = "/tmp/qst-bench-XXXXXX";
	if (record && !mkdtemp(path))
		return -1;
	for (int i = 0; i < n; i++) {
		char out[64];
		snprintf(out, sizeof(out), "%s/s%d.h5", path, i);
		cfg->out_path = record ? out : NULL;
		cfg->overwrite = true;
		cfg->station.seed = (uint64_t)i + 1;
		struct qst_session_summary sum;
		int64_t t0 = qst_monotonic_ns();
		int ret = qst_session_run(cfg, &sum);
		wall[i] = qst_ns_to_s(qst_monotonic_ns() - t0);
		*session_s = qst_ns_to_s(sum.duration_ns);
		if (ret < 0) {
			fprintf(stderr, "session failed: %s\n", sum.error);
			return -1;
		}
		if (record) {
			char j[80];
			snprintf(j, sizeof(j), "%s.journal", out);
			unlink(out);
			unlink(j);
		}
	}
	if (record)
		rmdir(path);
	qsort(wall, (size_t)n, sizeof(*wall), cmp_double);
	return 0;
}

int main(int argc, char **argv)
{
	const char *protocol = argc > 1 ? argv[1] :
				QST_SOURCE_PROTOCOLDIR "/dfns_thermal.lua";
	int n = argc > 2 ? atoi(argv[2]) : 10;
	if (n < 1)
		n = 1;
	struct qst_session_config cfg = { 0 };
	char *text;
	size_t len;
	if (qst_read_file(protocol, &text, &len) < 0) {
		fprintf(stderr, "cannot read %s\n", protocol);
		return 1;
	}
	cfg.protocol_path = protocol;
	cfg.protocol_text = text;
	cfg.protocol_len = len;
	snprintf(cfg.meta.subject_id, sizeof(cfg.meta.subject_id), "BENCH01");
	cfg.meta.sex = 'F';
	cfg.meta.age_years = 35;
	snprintf(cfg.meta.site, sizeof(cfg.meta.site), "hand");
	cfg.meta.thermode_area_cm2 = 9.0;
	cfg.station.clock_mode = QST_CLOCK_VIRTUAL;
	qst_participant_profile_builtin("healthy", &cfg.station.participant);
	qst_thermal_limits_default(&cfg.limits);
	cfg.script_limits.memory_bytes = QST_SCRIPT_DEFAULT_MEMORY;
	cfg.script_limits.instructions = QST_SCRIPT_DEFAULT_INSTRUCTIONS;

	double *wall = calloc((size_t)n, sizeof(*wall));
	double session_s = 0;
	printf("%s, %d sessions each, virtual clock\n", protocol, n);
	printf("%-22s %10s %10s %10s %14s\n", "mode", "median s", "p90 s", "max s",
	       "session/wall");
	for (int record = 0; record <= 1; record++) {
		if (run_series(&cfg, n, record, wall, &session_s) < 0)
			return 1;
		double med = pct(wall, n, 0.5);
		printf("%-22s %10.3f %10.3f %10.3f %13.0fx\n",
		       record ? "recorded (HDF5+journal)" : "not recorded", med,
		       pct(wall, n, 0.9), wall[n - 1], session_s / med);
	}
	printf("session time of one run: %.1f s\n", session_s);
	free(wall);
	free(text);
	return 0;
}
