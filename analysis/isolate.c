/*
 * Reading a session file in a child process. The HDF5 library trusts the
 * file's internal addresses and lengths: a damaged global heap or object
 * header can make it read out of bounds (SIGSEGV in H5HG_read) or loop
 * for ever, and that is code we cannot fix. The child does the reading
 * under a CPU-time limit and sends back a plain blob; a crash or a runaway
 * becomes one clean error naming the file instead of killing the station.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis_internal.h"
#include "qst_analysis.h"

#define LOG_PREFIX "session-file: "

/* CPU seconds a reader child may use; a sound file needs well under one. */
#define READ_CPU_SECONDS_DEFAULT 10
/* Largest blob a child may send: 1 Mi trials of 40 bytes and headroom. */
#define BLOB_MAX ((size_t)64 << 20)

struct blob_header {
	int32_t rc;
	char err[512];
	uint64_t len;
};

static rlim_t cpu_limit(void)
{
	const char *s = getenv("QST_READ_CPU_SECONDS");
	long v = s ? strtol(s, NULL, 10) : 0;
	return v > 0 ? (rlim_t)v : READ_CPU_SECONDS_DEFAULT;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return true;
}

/* Read exactly len bytes; false on EOF or error (a child that died). */
static bool read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		len -= (size_t)r;
	}
	return true;
}

static void run_child(int fd, qst_isolated_fn fn, void *ctx)
{
	struct blob_header h;
	struct rlimit rl;
	void *blob = NULL;

	/* Die of a crash rather than run a handler the parent installed
	 * (the test harness's, the station's): the parent reads the signal. */
	static const int crashes[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
				       SIGABRT, SIGXCPU };
	for (size_t i = 0; i < sizeof(crashes) / sizeof(crashes[0]); i++)
		signal(crashes[i], SIG_DFL);
	memset(&h, 0, sizeof(h));
	/* SIGXCPU at the soft limit; the hard one (SIGKILL) a second later
	 * only if that signal were ignored. */
	rl.rlim_cur = cpu_limit();
	rl.rlim_max = rl.rlim_cur + 1;
	setrlimit(RLIMIT_CPU, &rl);
	size_t len = 0;
	h.rc = fn(ctx, &blob, &len, h.err, sizeof(h.err));
	h.len = blob ? len : 0;
	bool ok = write_all(fd, &h, sizeof(h)) &&
		  (h.len == 0 || write_all(fd, blob, h.len));
	_exit(ok ? 0 : 1);
}

/* Why the child gave no answer, as the end of "PATH: cannot be read ...". */
static void child_failure(const char *path, int status, char *errbuf,
			  size_t errlen)
{
	char why[96];

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		snprintf(why, sizeof(why), "reading it used more than %lu s of "
			 "CPU", (unsigned long)cpu_limit());
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "the HDF5 library crashed on it (%s)",
			 strsignal(WTERMSIG(status)));
	else
		snprintf(why, sizeof(why), "the reader stopped (status %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	snprintf(errbuf, errlen, "%s: damaged beyond reading: %s", path, why);
	qst_err("%s", errbuf);
}

static int collect(int fd, void **blob, size_t *len, char *errbuf,
		   size_t errlen, bool *answered)
{
	struct blob_header h;

	*answered = false;
	if (!read_all(fd, &h, sizeof(h)))
		return QST_ERR_DATA;
	h.err[sizeof(h.err) - 1] = '\0';
	if (h.len > BLOB_MAX)
		return QST_ERR_DATA;
	*blob = h.len ? malloc((size_t)h.len) : NULL;
	if (h.len && !*blob)
		return QST_ERR_NOMEM;
	if (h.len && !read_all(fd, *blob, (size_t)h.len)) {
		free(*blob);
		*blob = NULL;
		return QST_ERR_DATA;
	}
	*len = (size_t)h.len;
	*answered = true;
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", h.err);
	return h.rc;
}

int qst_run_isolated(const char *path, qst_isolated_fn fn, void *ctx,
		     void **blob, size_t *len, char *errbuf, size_t errlen)
{
	int fds[2];

	*blob = NULL;
	*len = 0;
	if (pipe(fds) < 0)
		return QST_ERR_IO;
	fflush(NULL);  /* nothing buffered may be written twice */
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return QST_ERR_IO;
	}
	if (pid == 0) {
		close(fds[0]);
		run_child(fds[1], fn, ctx);
	}
	close(fds[1]);
	bool answered;
	int rc = collect(fds[0], blob, len, errbuf, errlen, &answered);
	close(fds[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!answered) {
		child_failure(path, status, errbuf, errlen);
		return rc == QST_ERR_NOMEM ? rc : QST_ERR_DATA;
	}
	return rc;
}
