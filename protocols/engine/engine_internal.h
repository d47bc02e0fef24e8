/*
 * Internals shared by the protocol engine's files: engine.c (state,
 * allocator, hooks, qst_script_run), sandbox.c (the standard library a
 * script sees) and api.c (the qst.* table). See docs/protocol-api.md.
 */
#ifndef QST_PROTOCOLS_ENGINE_ENGINE_INTERNAL_H
#define QST_PROTOCOLS_ENGINE_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "qst_protocol.h"

/* Engine API version, exposed to scripts as qst.version. */
#define QST_ENGINE_API_VERSION "1"

/* The count hook fires this often; the budget is checked at this grain. */
#define QST_ENGINE_HOOK_STEP 1000
/*
 * Deepest call nesting a script may reach. Protocols do not recurse; the
 * cap turns runaway recursion into a clear error long before the Lua
 * stack (LUAI_MAXSTACK) or the memory cap would.
 */
#define QST_ENGINE_MAX_DEPTH 200

#define QST_ENGINE_MSG_LEN 512

/* Why a script was stopped for good. Once set it never goes back. */
enum qst_engine_kill {
	QST_ENGINE_ALIVE = 0,
	QST_ENGINE_KILL_INSTRUCTIONS, /* budget used up */
	QST_ENGINE_KILL_MEMORY,       /* heap cap hit */
	QST_ENGINE_KILL_ABORTED,      /* host returned QST_ERR_ABORTED */
	QST_ENGINE_KILL_ENDED,        /* script finished: finalizers at close */
};

/* qst_data_eval: the reader of the returned table. */
struct qst_engine_data {
	int (*read)(lua_State *L, void *user);
	void *user;
};

struct qst_engine {
	lua_State *L;
	const struct qst_engine_data *data; /* NULL: a protocol script */
	const char *chunkname; /* without Lua's leading '=' */

	/* memory: every byte the Lua state holds goes through engine_alloc */
	size_t mem_used;
	size_t mem_cap;
	bool mem_refused;      /* last growth refused, awaiting Lua's retry */
	const void *ref_ptr;
	size_t ref_osize, ref_nsize;
	int ref_line;

	/* instructions */
	uint64_t instr_used;
	uint64_t instr_cap;
	const char *kill_hint; /* "infinite loop?" or what was charged */

	int line;              /* current line, kept by the line hook */
	enum qst_engine_kill killed;
	int kill_line;

	const struct qst_script_host *host;
	void *user;
	bool declared;
	struct qst_protocol_decl decl;

	/* last host error raised into the script, to tell whether it ended it */
	int host_code;
	char host_msg[QST_ENGINE_MSG_LEN];
};

/* The engine that owns L (it is the allocator's user data). */
struct qst_engine *qst_engine_from(lua_State *L);

/* Stop the script for good; the first reason and line are kept. */
void qst_engine_kill(struct qst_engine *e, enum qst_engine_kill why,
		     int line);

/* Raise the kill as a Lua error without allocating. Does not return. */
int qst_engine_raise_kill(lua_State *L);

/*
 * Charge work done inside a C library function (which the count hook
 * cannot see) to the instruction budget; kills and raises when it runs out.
 */
void qst_engine_charge(lua_State *L, double units, const char *hint);

/* Open the restricted standard library (sandbox.c). Runs protected. */
void qst_engine_open_sandbox(lua_State *L);

/* Create the global qst table and print (api.c). Runs protected. */
void qst_engine_open_api(lua_State *L);


#endif
