/*
 * The pacer (qst_core.h): coarse sleep on an absolute deadline, then a
 * short spin on the clock to the deadline itself; and real-time mode for
 * the pacing thread. Why: qst-domain.md §7.6 asks for trains paced with
 * jitter well below 100 ms by a real scheduler; a TSP train (§6.1) sends
 * one command per pulse at fixed times, and each pulse's lateness is
 * recorded, so it should be microseconds, not whatever the kernel's timer
 * slack and the machine's load make of a plain sleep.
 */
#define LOG_PREFIX "pacer: "

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "qst_core.h"

/* Under SCHED_FIFO, far from the deadline the spin yields (to threads of
 * its own priority only: it keeps the CPU); near it, it only tells the
 * core it is spinning. Under the normal scheduler it never yields --
 * sched_yield there hands the CPU to any runnable task for a time slice --
 * and it spins at most NORMAL_MARGIN_MAX_NS: a longer spin uses up the
 * thread's slice and is preempted right at the deadline (bench_pacing
 * without real-time mode: a 5 ms margin made p99 twice the plain loop's). */
#define SPIN_YIELD_NS (200 * INT64_C(1000))
#define NORMAL_MARGIN_MAX_NS (1 * QST_NS_PER_MS)
/*
 * The margin holds the peaks of the coarse wake-ups' lateness and lets
 * them go slowly: a mean would let the margin sink below the tail, and
 * every wake-up in the tail beyond it is a late pulse (bench_pacing:
 * with a smoothed mean 3 % of the pulses were late by the tail's size).
 * Headroom over a peak, a floor for the clock reads themselves, and the
 * decay per wait (1/256: a burst of load is remembered for some hundred
 * pulses; at one pulse a second the spin costs nothing).
 */
#define MARGIN_HEADROOM_NUM 5
#define MARGIN_HEADROOM_DEN 4
#define MARGIN_FLOOR_NS (30 * INT64_C(1000))
#define MARGIN_DECAY 256
/* A long sleep may spin this fraction of itself whatever the margin has
 * learnt (a 2 s TSP period: 4 ms, 0.2 % of a CPU): few wake-ups teach the
 * margin little, and one late pulse in ten is a p90, not a tail. */
#define LONG_SLEEP_SPIN_DIV 500

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void qst_pacer_init(struct qst_pacer *p, int64_t margin_ns)
{
	memset(p, 0, sizeof(*p));
	p->spin_yield_ns = SPIN_YIELD_NS;
	if (margin_ns > 0) {
		p->margin_ns = p->margin_min_ns = p->margin_max_ns = margin_ns;
		return;
	}
	p->margin_ns = QST_PACER_MARGIN_NS;
	p->margin_min_ns = QST_PACER_MARGIN_MIN_NS;
	p->margin_max_ns = QST_PACER_MARGIN_MAX_NS;
}


static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static bool realtime_policy(void)
{
	int policy = sched_getscheduler(0);
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

/* The margin for a sleep of sleep_ns: what was learnt, or the long-sleep
 * share of it, within the scheduler's cap. */
static int64_t margin_for(const struct qst_pacer *p, int64_t sleep_ns, bool rt)
{
	if (p->margin_min_ns == p->margin_max_ns)
		return p->margin_ns;
	int64_t hi = rt ? p->margin_max_ns : NORMAL_MARGIN_MAX_NS;
	int64_t share = sleep_ns / LONG_SLEEP_SPIN_DIV;
	share = share < hi ? share : hi;
	return share > p->margin_ns ? share : p->margin_ns;
}


/* A coarse wake-up woke wake_late_ns after it asked to. */
static void adapt(struct qst_pacer *p, int64_t wake_late_ns, bool rt)
{
	p->wake_ewma_ns += (wake_late_ns - p->wake_ewma_ns) / 8;
	if (p->margin_min_ns == p->margin_max_ns)
		return;
	int64_t peak = wake_late_ns * MARGIN_HEADROOM_NUM / MARGIN_HEADROOM_DEN +
		       MARGIN_FLOOR_NS;
	int64_t m = peak > p->margin_ns ?
			    peak :
			    p->margin_ns - (p->margin_ns - peak) / MARGIN_DECAY;
	int64_t hi = p->margin_max_ns;
	if (!rt && hi > NORMAL_MARGIN_MAX_NS)
		hi = NORMAL_MARGIN_MAX_NS > p->margin_min_ns ? NORMAL_MARGIN_MAX_NS :
							       p->margin_min_ns;
	p->margin_ns = clamp64(m, p->margin_min_ns, hi);
}

static void sleep_until_mono(int64_t mono_ns)
{
	struct timespec ts = { (time_t)(mono_ns / QST_NS_PER_S),
			       (long)(mono_ns % QST_NS_PER_S) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

static void note(struct qst_pacer *p, int64_t late_ns)
{
	p->waits++;
	p->last_late_ns = late_ns;
	if (late_ns > p->max_late_ns)
		p->max_late_ns = late_ns;
}

int64_t qst_pacer_handover(const struct qst_pacer *p,
			   const struct qst_clock *clock, int64_t t_ns)
{
	if (clock->mode == QST_CLOCK_VIRTUAL)
		return t_ns;
	int64_t now = qst_clock_now(clock);
	return t_ns - margin_for(p, t_ns - now, realtime_policy());
}

int64_t qst_pacer_wait_mono(struct qst_pacer *p, int64_t mono_ns)
{
	bool rt = realtime_policy();
	int64_t now = qst_monotonic_ns();
	int64_t wake = mono_ns - margin_for(p, mono_ns - now, rt);
	if (wake > now) {
		sleep_until_mono(wake);
		now = qst_monotonic_ns();
		p->late_waits += now > mono_ns;
		adapt(p, now - wake, rt);
	} else if (now - wake <= p->margin_max_ns) {
		/* The caller did the coarse wait itself (the session, handling
		 * device events until qst_pacer_handover): its lateness to the
		 * hand-over is a wake-up's lateness too. Much later than that
		 * it was busy, not woken late, and teaches nothing. */
		p->late_waits += now > mono_ns;
		adapt(p, now - wake, rt);
	}
	while (now < mono_ns) {
		if (rt && mono_ns - now > p->spin_yield_ns)
			sched_yield();
		else
			cpu_relax();
		now = qst_monotonic_ns();
	}
	int64_t late = now - mono_ns;
	note(p, late);
	return late;
}

int64_t qst_pacer_wait(struct qst_pacer *p, struct qst_clock *clock,
		       int64_t t_ns)
{
	if (clock->mode == QST_CLOCK_VIRTUAL) {
		qst_clock_advance_to(clock, t_ns);
		note(p, 0);
		return 0;
	}
	return qst_pacer_wait_mono(p, clock->origin_mono_ns + t_ns);
}

/* ------------------------------------------------------ real-time mode */

/* Once per process: a station without the capability says so once, not
 * at every session of a batch. */
static bool warned;

void qst_realtime_enter(struct qst_realtime *rt, int priority)
{
	memset(rt, 0, sizeof(*rt));
	int lock_err = mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : errno;
	rt->memory_locked = lock_err == 0;
	int lo = sched_get_priority_min(SCHED_FIFO);
	int hi = sched_get_priority_max(SCHED_FIFO);
	struct sched_param sp = { .sched_priority = priority < lo ? lo :
						     priority > hi ? hi : priority };
	int fifo_err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	rt->fifo = fifo_err == 0;
	rt->priority = rt->fifo ? sp.sched_priority : 0;
	snprintf(rt->what, sizeof(rt->what), "mlockall %s%s%s, SCHED_FIFO %d %s%s%s",
		 rt->memory_locked ? "granted" : "refused (",
		 rt->memory_locked ? "" : strerror(lock_err),
		 rt->memory_locked ? "" : ")", sp.sched_priority,
		 rt->fifo ? "granted" : "refused (",
		 rt->fifo ? "" : strerror(fifo_err), rt->fifo ? "" : ")");
	if ((!rt->memory_locked || !rt->fifo) && !warned) {
		warned = true;
		qst_warn("real-time mode only partly available: %s; pacing goes "
			 "on without it (grant CAP_SYS_NICE and RLIMIT_MEMLOCK, "
			 "docs/timing.md)", rt->what);
	} else {
		qst_info("real-time mode: %s", rt->what);
	}
}

void qst_realtime_leave(struct qst_realtime *rt)
{
	if (rt->fifo) {
		struct sched_param sp = { .sched_priority = 0 };
		pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	}
	if (rt->memory_locked)
		munlockall();
	rt->fifo = rt->memory_locked = false;
	rt->priority = 0;
}
