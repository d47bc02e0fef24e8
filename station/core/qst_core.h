/*
 * qst — core utilities shared by every part of the station:
 * error codes, the leveled logger, the session clock, SHA-256 and the
 * seedable random number generator.
 */
#ifndef QST_STATION_CORE_QST_CORE_H
#define QST_STATION_CORE_QST_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- errors */

/*
 * Every function that can fail returns 0 (QST_OK) or one of these negative
 * codes. Append only: the numbers are recorded in session files.
 */
enum qst_err {
	QST_OK = 0,
	QST_ERR = -1,           /* unspecified failure */
	QST_ERR_ARG = -2,       /* invalid argument: a caller bug or bad input */
	QST_ERR_NOMEM = -3,
	QST_ERR_IO = -4,        /* operating-system I/O failure */
	QST_ERR_TIMEOUT = -5,
	QST_ERR_DATA = -6,      /* malformed data from a device or a file */
	QST_ERR_LIMIT = -7,     /* refused by the safety supervisor */
	QST_ERR_SCRIPT = -8,    /* protocol script failed */
	QST_ERR_DEVICE = -9,    /* device reported a fault or stopped answering */
	QST_ERR_EXISTS = -10,   /* refusing to overwrite an existing file */
	QST_ERR_NOTFOUND = -11,
	QST_ERR_HDF5 = -12,
	QST_ERR_STATE = -13,    /* call not valid in the current state */
	QST_ERR_ABORTED = -14,  /* stopped on purpose (emergency stop, signal) */
	QST_ERR_UNSUPPORTED = -15,
	QST_ERR_CHECKSUM = -16,
	QST_ERR_INTERRUPTED = -17, /* paused, then resumed: repeat the trial */
	QST_ERR_NOSPACE = -18,  /* disk full (ENOSPC, EDQUOT) */
};

/* Human-readable text for an error code ("refused by the safety supervisor"). */
const char *qst_strerror(int err);
/* The enum name for an error code ("QST_ERR_LIMIT"), for logs and files. */
const char *qst_strerror_name(int err);

/* --------------------------------------------------------------- logging */

enum qst_log_level {
	QST_LOG_NONE = 0,
	QST_LOG_ERR = 1,
	QST_LOG_WARN = 2,
	QST_LOG_INFO = 3,
	QST_LOG_DEBUG = 4,
	QST_LOG_SPEW = 5,
};

typedef void (*qst_log_handler)(enum qst_log_level level, const char *prefix,
				const char *message, void *user);

/* Reads QST_LOG=none|error|warn|info|debug|spew once; default warn. */
void qst_log_init_from_env(void);
void qst_log_set_level(enum qst_log_level level);
enum qst_log_level qst_log_get_level(void);
/* Replace the stderr handler (NULL restores it). */
void qst_log_set_handler(qst_log_handler handler, void *user);
void qst_log(enum qst_log_level level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void qst_logv(enum qst_log_level level, const char *prefix, const char *fmt,
	      va_list ap);

/* Each source file defines LOG_PREFIX before using these. */
#define qst_err(...) qst_log(QST_LOG_ERR, LOG_PREFIX, __VA_ARGS__)
#define qst_warn(...) qst_log(QST_LOG_WARN, LOG_PREFIX, __VA_ARGS__)
#define qst_info(...) qst_log(QST_LOG_INFO, LOG_PREFIX, __VA_ARGS__)
#define qst_dbg(...) qst_log(QST_LOG_DEBUG, LOG_PREFIX, __VA_ARGS__)
#define qst_spew(...) qst_log(QST_LOG_SPEW, LOG_PREFIX, __VA_ARGS__)

/* ----------------------------------------------------------------- clock */

/*
 * The session clock. Every timestamp in the station is int64 nanoseconds on
 * this clock, t = 0 at session start. A real clock reads CLOCK_MONOTONIC; a
 * virtual clock only moves when the station advances it, so a simulated
 * session runs far faster than real time with identical logic.
 */
enum qst_clock_mode {
	QST_CLOCK_REAL = 0,
	QST_CLOCK_VIRTUAL = 1,
};

struct qst_clock {
	enum qst_clock_mode mode;
	int64_t origin_mono_ns;  /* CLOCK_MONOTONIC at t = 0 (real mode) */
	int64_t virtual_ns;      /* current time (virtual mode) */
	int64_t origin_utc_ns;   /* CLOCK_REALTIME at t = 0, both modes */
};

#define QST_NS_PER_S INT64_C(1000000000)
#define QST_NS_PER_MS INT64_C(1000000)

void qst_clock_init(struct qst_clock *clock, enum qst_clock_mode mode);
int64_t qst_clock_now(const struct qst_clock *clock);
/* Virtual mode: move time forward (never back). Real mode: no-op. */
void qst_clock_advance_to(struct qst_clock *clock, int64_t t_ns);
/* Real mode: sleep until t_ns on the session clock. Virtual: advance. */
void qst_clock_sleep_until(struct qst_clock *clock, int64_t t_ns);
/* Raw CLOCK_MONOTONIC in ns, for benchmarks and arrival stamps. */
int64_t qst_monotonic_ns(void);
double qst_ns_to_s(int64_t ns);
int64_t qst_s_to_ns(double s);
/* ISO-8601 UTC with microseconds and "Z", e.g. 2026-11-25T06:22:01.123456Z */
void qst_format_utc(int64_t utc_ns, char *buf, size_t len);

/* ----------------------------------------------------------------- pacer */

/*
 * Precise waits for stimulus commands scheduled at fixed times (TSP and
 * WUR trains, qst-domain.md §6.1, §7.6: "jitter << 100 ms; use a real
 * scheduler"). A plain clock_nanosleep wakes whenever the kernel gets
 * round to it -- tens of microseconds late on an idle machine, milliseconds
 * on a loaded one. The pacer sleeps until `margin` before the deadline,
 * then spins on the clock (under SCHED_FIFO yielding while far; pausing
 * the CPU) until the deadline itself. The margin adapts: it holds the peaks of how
 * late the coarse sleeps wake and lets them decay slowly, so the spin
 * stays short on a quiet machine and the deadline is still met on a busy
 * one. On a virtual clock a wait is an
 * exact jump.
 */
struct qst_pacer {
	int64_t margin_ns;      /* the coarse sleep ends this long before */
	int64_t margin_min_ns;  /* adaptive range; min == max: fixed margin */
	int64_t margin_max_ns;
	int64_t spin_yield_ns;  /* sched_yield while further than this away */
	int64_t wake_ewma_ns;   /* smoothed lateness of the coarse wake-ups */
	/* counters, for benchmarks and the session record */
	uint64_t waits;
	uint64_t late_waits;    /* the coarse sleep overshot the deadline */
	int64_t last_late_ns;   /* lateness of the last wait (>= 0) */
	int64_t max_late_ns;
};

#define QST_PACER_MARGIN_NS (300 * INT64_C(1000))     /* default start */
#define QST_PACER_MARGIN_MIN_NS (100 * INT64_C(1000))
#define QST_PACER_MARGIN_MAX_NS (5 * QST_NS_PER_MS) /* 1 ms without SCHED_FIFO */

/* margin_ns 0: adaptive from the default; > 0: fixed at that margin. */
void qst_pacer_init(struct qst_pacer *p, int64_t margin_ns);
/*
 * When a caller that has other work (device events) should hand over to
 * qst_pacer_wait for a deadline t_ns: t_ns minus the margin on a real
 * clock (at least 0.2 % of the time left, for long waits), t_ns itself on
 * a virtual one. qst_pacer_wait learns from how late the caller comes.
 */
int64_t qst_pacer_handover(const struct qst_pacer *p,
			   const struct qst_clock *clock, int64_t t_ns);
/*
 * Wait until t_ns on the session clock, as precisely as the host allows.
 * Returns the lateness (now - t_ns, >= 0; 0 on a virtual clock, which
 * advances to t_ns). A deadline already past returns at once.
 */
int64_t qst_pacer_wait(struct qst_pacer *p, struct qst_clock *clock,
		       int64_t t_ns);
/* The same on raw CLOCK_MONOTONIC (benchmarks). */
int64_t qst_pacer_wait_mono(struct qst_pacer *p, int64_t mono_ns);

/*
 * Real-time mode for the calling (pacing) thread: lock memory
 * (mlockall MCL_CURRENT|MCL_FUTURE, no page faults mid-train) and run
 * SCHED_FIFO at priority. Either may be refused (no CAP_SYS_NICE, no
 * RLIMIT_MEMLOCK): warned once, and the station goes on without it.
 * what[] says what was granted, for the session record.
 */
struct qst_realtime {
	bool memory_locked;
	bool fifo;
	int priority;          /* SCHED_FIFO priority granted, 0 if none */
	char what[128];        /* "mlockall granted, SCHED_FIFO 40 refused (EPERM)" */
};

#define QST_REALTIME_PRIORITY 40
void qst_realtime_enter(struct qst_realtime *rt, int priority);
/* Back to SCHED_OTHER and unlocked memory (what was granted). */
void qst_realtime_leave(struct qst_realtime *rt);

/* --------------------------------------------------------------- SHA-256 */

struct qst_sha256 {
	uint32_t state[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t fill;
};

void qst_sha256_init(struct qst_sha256 *ctx);
void qst_sha256_update(struct qst_sha256 *ctx, const void *data, size_t len);
void qst_sha256_final(struct qst_sha256 *ctx, uint8_t digest[32]);
/* digest of a buffer as 64 lowercase hex characters plus NUL */
void qst_sha256_hex(const void *data, size_t len, char hex[65]);

/* ------------------------------------------------------------------- RNG */

/* xoshiro256** seeded by splitmix64: reproducible across machines. */
struct qst_rng {
	uint64_t s[4];
};

void qst_rng_seed(struct qst_rng *rng, uint64_t seed);
uint64_t qst_rng_next(struct qst_rng *rng);
double qst_rng_uniform(struct qst_rng *rng);            /* [0, 1) */
double qst_rng_normal(struct qst_rng *rng, double mean, double sd);

/* ----------------------------------------------------------- small utils */

/* Read a whole file into a NUL-terminated buffer (caller frees). */
int qst_read_file(const char *path, char **data, size_t *len);

/*
 * Write-then-rename for output files (docs/reliability.md, "Output
 * files"). Create a new empty file, mode 0600, beside final (same
 * directory, so the rename stays on one file system): *tmp is its
 * malloc'd name, the result an open descriptor or a qst_err.
 */
int qst_temp_beside(const char *final, char **tmp);
/*
 * Open path as a new file for writing, mode 0600, for files written as
 * they grow (session file, journal, wire log). O_EXCL refuses an existing
 * file and a symlink planted at the name, which is never followed; with
 * overwrite the old one is removed first. flags adds to O_WRONLY |
 * O_CREAT | O_EXCL | O_CLOEXEC (e.g. O_APPEND). A descriptor;
 * QST_ERR_EXISTS, for the caller to explain; or QST_ERR_IO, logged, with
 * errno kept.
 */
int qst_create_private(const char *path, bool overwrite, int flags);
/*
 * Give the finished temp file its final name. Without overwrite an
 * existing final -- also a symlink, which is never followed -- is
 * QST_ERR_EXISTS and tmp is left for the caller to remove; with it, final
 * is replaced (a symlink itself, not its target).
 */
int qst_publish_file(const char *tmp, const char *final, bool overwrite);
/*
 * Text from outside -- a protocol script, a session file -- on its way to
 * the terminal or a file (text.c). What is wrong with s (len bytes): a
 * control character (tab and newline pass when allow_layout), a NUL, bytes
 * that are not UTF-8; or NULL.
 */
const char *qst_text_problem(const char *s, size_t len, bool allow_layout);
/* Replace each control byte and each byte of a bad UTF-8 sequence in the
 * NUL-terminated s with '?'. */
void qst_text_sanitize(char *s, bool allow_layout);

/* The name refers to something (a file, or a symlink even if dangling). */
bool qst_path_taken(const char *path);

#endif
