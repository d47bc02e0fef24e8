/*
 * Running the real `qst` binary from a umock test (test_station_e2e.c,
 * test_devices_probe.c): the child sees the same testbed through
 * UMOCKDEV_DIR and the inherited preloads.
 */
#ifndef QST_TESTS_UMOCK_LIB_PROC_H
#define QST_TESTS_UMOCK_LIB_PROC_H

/*
 * Run a command line through /bin/sh; its exit status (128 + signal if
 * killed). The child gets none of this process's descriptors beyond
 * stdio: umockdev's pty masters live here, and a copy held open in the
 * child would keep a hung-up port alive.
 */
int qst_umock_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An environment variable ctest sets (QST, QST_SRC, PYTHON); the test
 * fails with a clear message when it is missing. */
const char *qst_umock_env(const char *name);

#endif
