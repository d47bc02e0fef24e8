/*
 * HDF5-level helpers shared by the session-file readers; not part of the
 * public API (it brings hdf5.h along).
 */
#ifndef QST_ANALYSIS_SESSION_H5_H
#define QST_ANALYSIS_SESSION_H5_H

#include <stddef.h>

#include <hdf5.h>

/*
 * Open a session file read-only after the checks that give a clear
 * reason for a bad file (exists, HDF5, schema name and major version);
 * errbuf names the problem. Error output of HDF5 itself is switched off.
 */
int qst_session_open_ro(const char *path, hid_t *out, char *errbuf,
			size_t errlen);

/*
 * A reader's error: the message (quoting strings from the file, so made
 * printable) into errbuf and the log; returns rc.
 */
int qst_session_err(char *errbuf, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
