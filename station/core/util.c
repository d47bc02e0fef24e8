/*
 * Small file helpers (qst_core.h).
 */
#define LOG_PREFIX "util: "

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qst_core.h"

static int errno_to_qst(int e)
{
	return e == ENOENT ? QST_ERR_NOTFOUND : QST_ERR_IO;
}

int qst_read_file(const char *path, char **data, size_t *len)
{
	if (!path || !data)
		return QST_ERR_ARG;
	*data = NULL;
	if (len)
		*len = 0;

	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		qst_dbg("cannot open %s: %s", path, strerror(e));
		return errno_to_qst(e);
	}

	/* Read in growing chunks rather than trusting fseek/ftell, so pipes
	 * and /proc files work too. */
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return QST_ERR_NOMEM;
	}
	for (;;) {
		if (cap - used < 2) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				fclose(f);
				return QST_ERR_NOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + used, 1, cap - used - 1, f);
		used += got;
		if (got == 0)
			break;
	}
	int failed = ferror(f);
	int e = errno;
	fclose(f);
	if (failed) {
		qst_err("reading %s failed: %s", path, strerror(e));
		free(buf);
		return QST_ERR_IO;
	}
	buf[used] = '\0';
	*data = buf;
	if (len)
		*len = used;
	return QST_OK;
}

int qst_temp_beside(const char *final, char **tmp)
{
	const char *slash = strrchr(final, '/');
	size_t dirlen = slash ? (size_t)(slash - final) + 1 : 0;
	size_t n = strlen(final) + 16;
	char *t = malloc(n);

	*tmp = NULL;
	if (!t)
		return QST_ERR_NOMEM;
	/* Hidden, and named after the output so a leftover is recognisable. */
	snprintf(t, n, "%.*s.%s.XXXXXX", (int)dirlen, final,
		 final + dirlen);
	int fd = mkstemp(t);  /* O_CREAT | O_EXCL, mode 0600 */
	if (fd < 0) {
		free(t);
		return QST_ERR_IO;
	}
	*tmp = t;
	return fd;
}

int qst_create_private(const char *path, bool overwrite, int flags)
{
	if (overwrite && unlink(path) < 0 && errno != ENOENT) {
		int err = errno;
		qst_err("cannot remove %s: %s", path, strerror(err));
		errno = err;
		return QST_ERR_IO;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | flags, 0600);
	if (fd >= 0)
		return fd;
	if (errno == EEXIST)
		return QST_ERR_EXISTS;
	int err = errno;
	qst_err("cannot create %s: %s", path, strerror(err));
	errno = err;
	return QST_ERR_IO;
}

bool qst_path_taken(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int qst_publish_file(const char *tmp, const char *final, bool overwrite)
{
	if (overwrite)
		return rename(tmp, final) == 0 ? QST_OK : QST_ERR_IO;
	/* link() never replaces and never follows a symlink at final. */
	if (link(tmp, final) == 0) {
		unlink(tmp);
		return QST_OK;
	}
	if (errno == EEXIST)
		return QST_ERR_EXISTS;
	if (errno != EPERM && errno != EOPNOTSUPP)
		return QST_ERR_IO;
	/* A file system without hard links: check, then rename. */
	if (qst_path_taken(final))
		return QST_ERR_EXISTS;
	return rename(tmp, final) == 0 ? QST_OK : QST_ERR_IO;
}
