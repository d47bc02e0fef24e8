/*
 * Test-only fault injection for the recorder (docs/reliability.md,
 * "Test-only fault hooks").
 * Nothing here runs unless one of these variables is set; a station never
 * sets them:
 *
 *   QST_TEST_FAIL_WRITE=N[:K]  journal writes N .. N+K-1 (1-based, every
 *                              write of a live journal counts) fail with
 *                              ENOSPC, as on a full disk; K defaults to 1,
 *                              K = 0 means every write from N on.
 *   QST_TEST_FAIL_H5=N         the Nth HDF5 flush of a live recording
 *                              fails, as if the HDF5 side hit the full
 *                              disk first (the journal still has room).
 *   QST_TEST_KILL_AT=N         SIGKILL at the Nth write point (below).
 *   QST_TEST_KILL_MODE=power   before that kill, drop what a power cut
 *                              would lose: the journal is cut back to its
 *                              last fsync and the HDF5 file to half its
 *                              size (it is never fsynced, so nothing of it
 *                              is promised). Default "process": a plain
 *                              SIGKILL, the kernel keeps every write.
 *
 * Write points, in the order a commit passes them: a journal write half
 * done, the journal written but not fsynced, the journal fsynced, the
 * HDF5 rows appended but not flushed, the HDF5 file flushed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec_internal.h"

#define LOG_PREFIX "recorder: "

struct hooks {
	bool read;
	bool active;
	long fail_from, fail_count;  /* fail_count 0: for ever */
	long kill_at;
	long fail_h5_at;
	bool power;
	long writes, points, h5_flushes;
};

static struct hooks hooks;

static long env_long(const char *name, const char *text, char **end)
{
	errno = 0;
	long v = strtol(text, end, 10);
	if (errno || *end == text || v < 0) {
		qst_warn("%s=%s ignored: not a count", name, text);
		return -1;
	}
	return v;
}

static void read_fail_write(const char *v)
{
	char *end;
	long n = env_long("QST_TEST_FAIL_WRITE", v, &end);
	if (n <= 0)
		return;
	hooks.fail_from = n;
	hooks.fail_count = 1;
	if (*end == ':') {
		long k = env_long("QST_TEST_FAIL_WRITE", end + 1, &end);
		hooks.fail_count = k < 0 ? 1 : k;
	}
}

static void read_env(void)
{
	hooks.read = true;
	const char *fail = getenv("QST_TEST_FAIL_WRITE");
	const char *kill = getenv("QST_TEST_KILL_AT");
	const char *mode = getenv("QST_TEST_KILL_MODE");
	const char *h5 = getenv("QST_TEST_FAIL_H5");
	if (h5 && *h5) {
		char *end;
		hooks.fail_h5_at = env_long("QST_TEST_FAIL_H5", h5, &end);
	}
	if (fail && *fail)
		read_fail_write(fail);
	if (kill && *kill) {
		char *end;
		hooks.kill_at = env_long("QST_TEST_KILL_AT", kill, &end);
	}
	hooks.power = mode && strcmp(mode, "power") == 0;
	hooks.active = hooks.fail_from > 0 || hooks.kill_at > 0 ||
		       hooks.fail_h5_at > 0;
	if (hooks.active)
		qst_warn("TEST FAULT HOOKS ACTIVE (QST_TEST_*): not for real "
			 "sessions");
}

bool qst_rec_hook_fail_write(const struct qst_recorder *r)
{
	if (!hooks.read)
		read_env();
	if (!hooks.active || r->jfd < 0)
		return false;
	long n = ++hooks.writes;
	if (hooks.fail_from <= 0 || n < hooks.fail_from)
		return false;
	return hooks.fail_count == 0 || n < hooks.fail_from + hooks.fail_count;
}

bool qst_rec_hook_fail_h5(const struct qst_recorder *r)
{
	if (!hooks.read)
		read_env();
	if (!hooks.active || r->jfd < 0)
		return false;
	return ++hooks.h5_flushes == hooks.fail_h5_at;
}

/* What a power cut loses: everything not fsynced (see the header). */
static void lose_unsynced(const struct qst_recorder *r)
{
	struct stat sb;
	if (ftruncate(r->jfd, r->journal_good) < 0)
		qst_err("%s: cannot drop the unsynced tail: %s",
			r->journal_path, strerror(errno));
	if (stat(r->h5.path, &sb) == 0 && truncate(r->h5.path, sb.st_size / 2) < 0)
		qst_err("%s: cannot cut the file: %s", r->h5.path,
			strerror(errno));
}

void qst_rec_hook_point(const struct qst_recorder *r, const char *where)
{
	if (!hooks.read)
		read_env();
	if (!hooks.active || r->jfd < 0)
		return;
	long n = ++hooks.points;
	if (n != hooks.kill_at)
		return;
	/* stderr is unbuffered: the test reads this line after the kill. */
	qst_warn("test kill at write point %ld (%s, %s)", n, where,
		 hooks.power ? "power cut" : "SIGKILL");
	if (hooks.power)
		lose_unsynced(r);
	raise(SIGKILL);
}

void qst_rec_hook_report(void)
{
	if (hooks.active)
		qst_warn("test hooks: %ld write points, %ld journal writes",
			 hooks.points, hooks.writes);
}
