/*
 * qst protocols — the sandboxed Lua 5.4 script engine and the
 * psychophysical methods it offers to scripts (docs/protocol-api.md).
 *
 * The engine knows nothing of devices: every call a script makes that
 * touches the station goes through a struct qst_script_host, which the
 * station implements (supervised, recorded) and `qst check` implements as
 * a dry run. Method parameters arrive here already validated for type and
 * range by the engine; the station's safety supervisor still checks every
 * stimulus against the hard limits.
 */
#ifndef QST_PROTOCOLS_QST_PROTOCOL_H
#define QST_PROTOCOLS_QST_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qst_core.h"

#define QST_PROTOCOL_MAX_DEVICES 8

/* What qst.protocol{} declares. */
struct qst_protocol_decl {
	char name[128];
	char version[32];
	char description[256];
	int n_devices;
	char devices[QST_PROTOCOL_MAX_DEVICES][16]; /* "thermal", "response" */
};

/* qst.limits{}: method of limits, ramped, RT-inclusive (qst-domain §7.1). */
struct qst_limits_params {
	int test;             /* enum qst_param: CDT, WDT, CPT, HPT */
	int direction;        /* +1 heating, -1 cooling (from the test) */
	double baseline_c;    /* default 32 */
	double rate_c_s;      /* default 1 */
	double return_rate_c_s; /* default 1 detection, 5 pain */
	double cutoff_c;      /* default 0 cooling, 50 heating */
	int repetitions;      /* default 3 */
	double isi_s;         /* time at baseline before each ramp, default 6 */
	double isi_jitter_s;  /* + uniform [0, jitter), default 2 */
};

/* qst.tsl{}: thermal sensory limen with PHS (qst-domain §2.2). */
struct qst_tsl_params {
	double baseline_c;     /* default 32 */
	double rate_c_s;       /* default 1 */
	double lower_cutoff_c; /* default 0 */
	double upper_cutoff_c; /* default 50 */
	int pairs;             /* warm+cold alternations, default 3 */
	double return_rate_c_s; /* back to baseline at the end, default 1 */
	double isi_s;          /* at baseline before the first ramp, default 6 */
};

/*
 * The station side of a script. Every callback returns QST_OK or a negative
 * qst_err; on error it fills errbuf (NUL-terminated) and the engine raises a
 * Lua error carrying that text, so the script stops unless it catches it.
 */
struct qst_script_host {
	int (*declare)(void *user, const struct qst_protocol_decl *decl,
		       char *errbuf, size_t errlen);
	int (*section)(void *user, const char *title, char *errbuf,
		       size_t errlen);
	int (*instruct)(void *user, const char *text, char *errbuf,
			size_t errlen);
	int (*limits)(void *user, const struct qst_limits_params *p,
		      char *errbuf, size_t errlen);
	int (*tsl)(void *user, const struct qst_tsl_params *p, char *errbuf,
		   size_t errlen);
	int (*wait)(void *user, double seconds, char *errbuf, size_t errlen);
	int (*not_done)(void *user, int test, const char *reason,
			char *errbuf, size_t errlen);
	void (*log)(void *user, const char *message);
	/* Seconds since session start, for scripts that pace themselves. */
	double (*now)(void *user);
};

/* Resource limits of one script run. */
struct qst_script_limits {
	size_t memory_bytes;    /* Lua heap cap, default 32 MiB */
	uint64_t instructions;  /* VM instruction budget, default 200 million */
};

#define QST_SCRIPT_DEFAULT_MEMORY ((size_t)32 << 20)
#define QST_SCRIPT_DEFAULT_INSTRUCTIONS UINT64_C(200000000)

/*
 * Run a protocol script to completion. chunkname names it in messages
 * ("dfns_thermal.lua"). Returns QST_OK, QST_ERR_SCRIPT (syntax or runtime
 * error, instruction budget, memory cap — errbuf says which, with the line),
 * or the negative code a host callback returned (e.g. QST_ERR_LIMIT,
 * QST_ERR_ABORTED) when that error ended the script.
 */
int qst_script_run(const char *text, size_t len, const char *chunkname,
		   const struct qst_script_limits *limits,
		   const struct qst_script_host *host, void *user,
		   char *errbuf, size_t errlen);

#endif
