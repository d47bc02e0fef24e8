/*
 * Input latency of the station (issue 5 item 6): from the moment a device's
 * bytes are written into the port to (a) their arrival timestamp and (b)
 * the event reaching the session and being recorded.
 *
 * One run measures, on the same kind of port (a pseudo-terminal in raw
 * mode, the port `qst simulate` gives):
 *   floor    a bare thread blocked in poll() on the port, stamping each
 *            6-byte packet when the poll wakes for its last byte;
 *   station  the station's own path for the same packets: a Cedrus XID pad
 *            on the port (the real xid driver over the serial transport),
 *            the I/O thread's arrival stamp taken when ppoll wakes, the
 *            parse, the event queue, the session side popping the event
 *            (qst_station_next_event, as the session does) and recording
 *            it (qst_recorder_event into a session file).
 * A writer thread sends one key packet per event at a fixed rate; the
 * packet's reaction-time field carries the event's index, so each event is
 * matched to its send time. Prints p50/p99/max of each stage, the
 * differences from the floor, and how many events were lost.
 *
 *   build/bench/bench_latency [EVENTS] [RATE_HZ] [rt]  (default 10000 1000)
 * With rt, the reading threads run SCHED_FIFO with memory locked, as
 * `qst run --realtime` runs the station: the floor's poll thread and the
 * session side at one priority, the station's I/O thread one above.
 * Issue targets: arrival adds < 5 µs to the floor at p50; delivery adds
 * < 20 µs at p50 and < 50 µs at p99; no event lost at 1 kHz for 60 s
 * (60000 events).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../drivers/xid/protocol.h" /* the XID key packet */
#include "qst_recorder.h"
#include "qst_station.h"

struct run {
	int master;
	int first, count;    /* the block of events this writer sends */
	int n;
	double rate_hz;
	int64_t *sent;       /* CLOCK_MONOTONIC before each write */
};

/* Floor and station alternate in blocks of this many events, so that both
 * see the same machine: a burst of load hits one block of each, not all
 * of one and none of the other. */
#define BLOCK 500

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Not measured (lost, or the write failed). A latency may be slightly
 * negative: the I/O thread stamps when ppoll wakes, and bytes written
 * just after that instant are read in the same pass. */
#define MISSING INT64_MIN

/* The measured latencies, sorted, in a new array; *k how many. */
static int64_t *sorted(const int64_t *lat, int n, int *k)
{
	int64_t *v = malloc(sizeof(*v) * (size_t)(n ? n : 1));
	*k = 0;
	for (int i = 0; v && i < n; i++)
		if (lat[i] != MISSING)
			v[(*k)++] = lat[i];
	if (v)
		qsort(v, (size_t)*k, sizeof(*v), cmp_i64);
	return v;
}

/* The q quantile in µs, -1 when nothing was measured. */
static double pct(const int64_t *lat, int n, double q)
{
	int k;
	int64_t *v = sorted(lat, n, &k);
	double r = v && k ? v[(int)((k - 1) * q)] / 1e3 : -1;
	free(v);
	return r;
}

static void print_stats(const char *what, const int64_t *lat, int n)
{
	int k;
	int64_t *v = sorted(lat, n, &k);
	if (!v || k == 0)
		printf("  %-34s no events\n", what);
	else
		printf("  %-34s p50 %8.1f  p99 %8.1f  max %8.1f µs  (n=%d)\n",
		       what, pct(lat, n, 0.5), pct(lat, n, 0.99), v[k - 1] / 1e3, k);
	free(v);
}

static int open_pty(char *path, size_t len)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, path, len))
		return -1;
	int s = open(path, O_RDWR | O_NOCTTY);
	struct termios tio;
	if (s < 0 || tcgetattr(s, &tio) != 0)
		return -1;
	cfmakeraw(&tio);
	tcsetattr(s, TCSANOW, &tio);
	close(s);
	return m;
}

static void packet(int i, uint8_t pkt[QST_XID_PACKET_LEN])
{
	struct qst_xid_key k = { .port = 0, .key = 1 + i % 8,
				 .pressed = (i / 8) % 2 == 0, .rt_ms = (uint32_t)i };
	qst_xid_encode_key(&k, pkt);
}

/* One packet per period on an absolute schedule. */
static void *writer(void *arg)
{
	struct run *r = arg;
	int64_t period = (int64_t)(1e9 / r->rate_hz);
	int64_t next = qst_monotonic_ns() + 10 * QST_NS_PER_MS;
	for (int i = r->first; i < r->first + r->count; i++, next += period) {
		struct timespec ts = { next / QST_NS_PER_S, next % QST_NS_PER_S };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		uint8_t pkt[QST_XID_PACKET_LEN];
		packet(i, pkt);
		r->sent[i] = qst_monotonic_ns();
		if (write(r->master, pkt, sizeof(pkt)) != (ssize_t)sizeof(pkt))
			r->sent[i] = MISSING;
	}
	return NULL;
}

/* (a) The floor: poll, stamp, read; a packet is stamped by the wake that
 * completed it. fd is the port's reading end. */
static void floor_block(struct run *r, int fd, int64_t *arrival)
{
	pthread_t w;
	pthread_create(&w, NULL, writer, r);
	uint8_t buf[4096];
	size_t have = 0;
	int got = 0;
	int64_t quiet_until = qst_monotonic_ns() + 5 * QST_NS_PER_S;
	while (got < r->count && qst_monotonic_ns() < quiet_until) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int64_t t = qst_monotonic_ns();
		ssize_t k = read(fd, buf + have, sizeof(buf) - have);
		if (k <= 0)
			continue;
		have += (size_t)k;
		for (; have >= QST_XID_PACKET_LEN; have -= QST_XID_PACKET_LEN) {
			struct qst_xid_key key;
			if (qst_xid_decode_key(buf, &key) == 0 && (int)key.rt_ms < r->n)
				arrival[key.rt_ms] = t;
			got++;
			memmove(buf, buf + QST_XID_PACKET_LEN, have - QST_XID_PACKET_LEN);
		}
		quiet_until = t + 2 * QST_NS_PER_S;
	}
	pthread_join(w, NULL);
}

struct identify {
	struct qst_xid_sim *sim;
	volatile bool done;
};

/* The pad answers the driver's identification, then the writer takes over. */
static void *serve_identification(void *arg)
{
	struct identify *id = arg;
	int64_t t0 = qst_monotonic_ns();
	while (!id->done) {
		qst_xid_sim_step(id->sim, qst_monotonic_ns() - t0);
		usleep(500);
	}
	return NULL;
}

static struct qst_station *open_station(struct run *r, bool rt, char *err,
					size_t len)
{
	char path[64];
	r->master = open_pty(path, sizeof(path));
	struct identify id = { 0 };
	/* Simulators read without blocking (the dup shares the flag; the
	 * writer's 6-byte writes into an emptied pty never wait anyway). */
	if (r->master >= 0)
		fcntl(r->master, F_SETFL, fcntl(r->master, F_GETFL) | O_NONBLOCK);
	if (r->master < 0 || qst_xid_sim_new(dup(r->master), 0, &id.sim) < 0) {
		snprintf(err, len, "cannot create the pty or the pad simulator");
		return NULL;
	}
	pthread_t t;
	pthread_create(&t, NULL, serve_identification, &id);
	struct qst_station_config cfg = { .clock_mode = QST_CLOCK_REAL,
					  .realtime = rt };
	snprintf(cfg.roles[QST_ROLE_RESPONSE].driver, 16, "xid");
	snprintf(cfg.roles[QST_ROLE_RESPONSE].port, 128, "%s", path);
	struct qst_station *st = NULL;
	int ret = qst_station_open(&cfg, &st, err, len);
	id.done = true;
	pthread_join(t, NULL);
	qst_xid_sim_free(id.sim);
	return ret == QST_OK ? st : NULL;
}

static struct qst_recorder *open_recorder(const char *path)
{
	struct qst_session_meta meta = { 0 };
	snprintf(meta.subject_id, sizeof(meta.subject_id), "BENCH01");
	snprintf(meta.protocol_name, sizeof(meta.protocol_name), "latency bench");
	struct qst_recorder *rec = NULL;
	if (qst_recorder_create(path, &meta, true, &rec) < 0)
		return NULL;
	return rec;
}

/* (b) The station's path, through to the recorder. */
static void station_block(struct run *r, struct qst_station *st,
			  struct qst_recorder *rec, int64_t *arrival,
			  int64_t *delivered, int64_t *recorded)
{
	pthread_t w;
	pthread_create(&w, NULL, writer, r);
	int got = 0;
	int64_t origin = st->clock.origin_mono_ns;
	int64_t quiet = qst_station_now(st) + 5 * QST_NS_PER_S;
	while (got < r->count) {
		struct qst_event ev;
		if (qst_station_next_event(st, quiet, &ev) <= 0)
			break;
		if (ev.type != QST_EV_BUTTON || ev.u.button.device_rt_ms < 0 ||
		    ev.u.button.device_rt_ms >= r->n)
			continue;
		int i = (int)ev.u.button.device_rt_ms;
		delivered[i] = qst_monotonic_ns();
		arrival[i] = ev.t_ns + origin;
		struct qst_event_record e = {
			.t_ns = ev.t_ns, .code = QST_EVC_RESPONSE_PRESS,
			.source = QST_EVS_RESPONSE, .trial = -1,
			.value = ev.u.button.key, .value2 = i, .message = NULL };
		if (rec)
			qst_recorder_event(rec, &e);
		recorded[i] = qst_monotonic_ns();
		got++;
		quiet = ev.t_ns + 2 * QST_NS_PER_S;
	}
	pthread_join(w, NULL);
}

static void remove_session_file(const char *file)
{
	char journal[64];
	snprintf(journal, sizeof(journal), "%s.journal", file);
	unlink(file);
	unlink(journal);
}

static void minus(const int64_t *a, const int64_t *b, int64_t *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = a[i] != MISSING && b[i] != MISSING ? a[i] - b[i] : MISSING;
}

static int count_lost(const int64_t *t, int n)
{
	int lost = 0;
	for (int i = 0; i < n; i++)
		lost += t[i] == MISSING;
	return lost;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	double rate = argc > 2 ? atof(argv[2]) : 1000.0;
	bool rt = argc > 3 && !strcmp(argv[3], "rt");
	struct qst_realtime granted = { 0 };
	if (rt)
		qst_realtime_enter(&granted, QST_REALTIME_PRIORITY);
	if (n < 1 || n > 10000000 || !(rate > 0 && rate <= 20000)) {
		fprintf(stderr, "usage: bench_latency [EVENTS 1..1e7] [RATE_HZ]\n");
		return 2;
	}
	qst_log_set_level(QST_LOG_ERR);
	size_t sz = sizeof(int64_t) * (size_t)n;
	int64_t *sent_f = malloc(sz), *arr_f = malloc(sz), *sent_s = malloc(sz),
		*arr_s = malloc(sz), *del_s = malloc(sz), *rec_s = malloc(sz),
		*lat = malloc(sz);
	for (int i = 0; i < n; i++)
		arr_f[i] = arr_s[i] = del_s[i] = rec_s[i] = MISSING;
	char path[64], err[512];
	struct run rf = { .n = n, .rate_hz = rate, .sent = sent_f };
	rf.master = open_pty(path, sizeof(path));
	int floor_fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	struct run rs = { .n = n, .rate_hz = rate, .sent = sent_s };
	struct qst_station *st = open_station(&rs, rt, err, sizeof(err));
	if (rf.master < 0 || floor_fd < 0 || !st) {
		fprintf(stderr, "bench_latency: %s\n", st ? "no pty" : err);
		return 1;
	}
	const char *file = "/tmp/qst-bench-latency.h5";
	struct qst_recorder *rec = open_recorder(file);
	for (int first = 0; first < n; first += BLOCK) {
		rf.first = rs.first = first;
		rf.count = rs.count = n - first < BLOCK ? n - first : BLOCK;
		floor_block(&rf, floor_fd, arr_f);
		station_block(&rs, st, rec, arr_s, del_s, rec_s);
	}
	uint64_t dropped = st->queue.dropped;
	qst_station_close(st);
	if (rec)
		qst_recorder_close(rec, true);
	remove_session_file(file);
	close(floor_fd);
	close(rf.master);
	close(rs.master);
	printf("input latency, %d events at %.0f Hz (%.1f s each), on a raw pty, "
	       "floor and station alternating in blocks of %d%s%s:\n", n, rate,
	       n / rate, BLOCK, rt ? "; real-time: " : "", rt ? granted.what : "");
	int64_t *floor_lat = malloc(sz);
	minus(arr_f, sent_f, floor_lat, n);
	print_stats("(a) floor: poll wake", floor_lat, n);
	minus(arr_s, sent_s, lat, n);
	print_stats("(b) station: arrival stamp", lat, n);
	double arr50 = pct(lat, n, 0.5), arr99 = pct(lat, n, 0.99);
	minus(del_s, sent_s, lat, n);
	print_stats("(b) station: delivered to session", lat, n);
	double del50 = pct(lat, n, 0.5), del99 = pct(lat, n, 0.99);
	minus(rec_s, sent_s, lat, n);
	print_stats("(b) station: recorded", lat, n);
	double rec50 = pct(lat, n, 0.5), rec99 = pct(lat, n, 0.99);
	double f50 = pct(floor_lat, n, 0.5), f99 = pct(floor_lat, n, 0.99);
	printf("over the floor: arrival p50 %+.1f µs (target < 5), p99 %+.1f µs\n",
	       arr50 - f50, arr99 - f99);
	printf("                delivered p50 %+.1f µs (target < 20), p99 %+.1f µs "
	       "(target < 50)\n", del50 - f50, del99 - f99);
	printf("                recorded  p50 %+.1f µs, p99 %+.1f µs\n",
	       rec50 - f50, rec99 - f99);
	printf("lost: floor %d, station %d of %d (queue drops %llu)\n",
	       count_lost(arr_f, n), count_lost(del_s, n), n,
	       (unsigned long long)dropped);
	free(sent_f); free(arr_f); free(sent_s); free(arr_s); free(del_s);
	free(rec_s); free(lat); free(floor_lat);
	return 0;
}
