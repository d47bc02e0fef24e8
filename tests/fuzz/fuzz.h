/*
 * Shared by the libFuzzer targets: silence the logger without skipping
 * its formatting (a bad format argument must still be reached), a
 * private temp directory, and a reproducible chunking of one input.
 */
#ifndef QST_TESTS_FUZZ_FUZZ_H
#define QST_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qst_core.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the target checks failed: crash so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

static inline void fuzz_discard_log(enum qst_log_level level,
				    const char *prefix, const char *message,
				    void *user)
{
	(void)level;
	(void)prefix;
	(void)message;
	(void)user;
}

static inline void fuzz_quiet_logs(void)
{
	qst_log_set_handler(fuzz_discard_log, NULL);
	qst_log_set_level(QST_LOG_SPEW);
}

/* LLVMFuzzerInitialize for targets that need nothing but quiet logs. */
#define FUZZ_QUIET_INITIALIZE()                                            \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                  \
	{                                                                  \
		(void)argc;                                                \
		(void)argv;                                                \
		fuzz_quiet_logs();                                         \
		return 0;                                                  \
	}

/* Write data to path; false if the file system refused. */
static inline int fuzz_write_file(const char *path, const uint8_t *data,
				  size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	size_t put = fwrite(data, 1, size, f);
	return fclose(f) == 0 && put == size;
}

/*
 * A private directory under $TMPDIR (or /tmp) for file-based targets;
 * they unlink their files each run, and the directory goes at exit.
 */
static char fuzz_dir[256];

static inline void fuzz_remove_dir(void)
{
	rmdir(fuzz_dir);
}

static inline const char *fuzz_temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/qst-fuzz-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir))
		abort();
	atexit(fuzz_remove_dir);
	return fuzz_dir;
}

/*
 * Chunk sizes 1..max from a small generator seeded by the input, so a
 * stream parser sees the same bytes split at input-dependent places.
 */
static inline size_t fuzz_next_chunk(uint32_t *state, size_t max)
{
	*state = *state * 1103515245u + 12345u;
	return 1 + (*state >> 16) % max;
}

#endif
