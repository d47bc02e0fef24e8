/*
 * The protocol script engine: one sandboxed Lua 5.4 state per run, with a
 * heap cap enforced by our own allocator and an instruction budget enforced
 * by a count hook (architecture.md, "Protocols are Lua 5.4 scripts").
 *
 * A stop for resources is final: once the budget or the heap cap has been
 * hit the engine is "killed", the hook raises on every instruction, the
 * allocator refuses to grow anything and every qst.* call raises, so a
 * script cannot catch the stop with pcall and carry on. qst_script_run
 * then reports the stop, not whatever the script did afterwards.
 */
#define LOG_PREFIX "engine: "

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "qst_core.h"

#define HOOK_MASK (LUA_MASKCOUNT | LUA_MASKLINE)

/* Registry key of the preallocated error value raised on a kill. */
static const char kill_key = 'k';

static void format_message(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void format_message(char *errbuf, size_t errlen, const char *fmt, ...)
{
	if (!errbuf || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	/* Messages quote script text: nothing in them may drive the
	 * operator's terminal. */
	qst_text_sanitize(errbuf, false);
}

struct qst_engine *qst_engine_from(lua_State *L)
{
	void *ud = NULL;
	lua_getallocf(L, &ud);
	return ud;
}

void qst_engine_kill(struct qst_engine *e, enum qst_engine_kill why,
		     int line)
{
	if (e->killed != QST_ENGINE_ALIVE)
		return;
	e->killed = why;
	e->kill_line = line;
}

int qst_engine_raise_kill(lua_State *L)
{
	/* The hook keeps firing on every instruction of this thread from now
	 * on, so a pcall that swallows this error gains one instruction. */
	lua_sethook(L, lua_gethook(L), HOOK_MASK, 1);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &kill_key);
	return lua_error(L);
}

/* The script line that called the running C function. */
static int calling_line(lua_State *L, int fallback)
{
	lua_Debug ar;
	for (int level = 1; lua_getstack(L, level, &ar); level++)
		if (lua_getinfo(L, "l", &ar) && ar.currentline > 0)
			return ar.currentline;
	return fallback;
}

void qst_engine_charge(lua_State *L, double units, const char *hint)
{
	struct qst_engine *e = qst_engine_from(L);
	if (e->killed)
		qst_engine_raise_kill(L);
	double left = (double)(e->instr_cap - e->instr_used);
	if (units > left) {
		e->instr_used = e->instr_cap + 1;
		e->kill_hint = hint;
		qst_engine_kill(e, QST_ENGINE_KILL_INSTRUCTIONS,
				calling_line(L, e->line));
		qst_engine_raise_kill(L);
	}
	if (units > 0)
		e->instr_used += (uint64_t)units;
}

/* ------------------------------------------------------------ allocator */

/*
 * When growth is refused Lua runs an emergency collection and asks again
 * with the same arguments. Only a second refusal (or a refusal that was
 * not retried, and so reached the script as an error) is a kill.
 */
static bool engine_may_grow(struct qst_engine *e, const void *ptr,
			    size_t osize, size_t nsize, size_t grow)
{
	if (e->killed)
		return false;
	bool retry = e->mem_refused && ptr == e->ref_ptr &&
		     osize == e->ref_osize && nsize == e->ref_nsize;
	if (e->mem_refused && !retry) {
		qst_engine_kill(e, QST_ENGINE_KILL_MEMORY, e->ref_line);
		return false;
	}
	e->mem_refused = false;
	bool fits = e->mem_used <= e->mem_cap &&
		    grow <= e->mem_cap - e->mem_used;
	if (fits)
		return true;
	if (retry) {
		qst_engine_kill(e, QST_ENGINE_KILL_MEMORY, e->ref_line);
		return false;
	}
	e->mem_refused = true;
	e->ref_ptr = ptr;
	e->ref_osize = osize;
	e->ref_nsize = nsize;
	e->ref_line = e->line;
	return false;
}

static void *engine_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct qst_engine *e = ud;
	size_t old = ptr ? osize : 0; /* without a block osize is a type tag */

	if (nsize == 0) {
		free(ptr);
		e->mem_used -= old;
		return NULL;
	}
	if (nsize > old && !engine_may_grow(e, ptr, osize, nsize, nsize - old))
		return NULL;
	void *p = realloc(ptr, nsize);
	if (!p) /* Lua treats a failed shrink as fatal: keep the old block */
		return nsize <= old ? ptr : NULL;
	e->mem_used = e->mem_used - old + nsize;
	return p;
}

/* ----------------------------------------------------------------- hook */

static void check_depth(lua_State *L)
{
	lua_Debug far;
	if (!lua_getstack(L, QST_ENGINE_MAX_DEPTH, &far))
		return;
	luaL_where(L, 0);
	lua_pushfstring(L, "stack overflow: calls nested deeper than %d "
			   "levels (runaway recursion?)",
			QST_ENGINE_MAX_DEPTH);
	lua_concat(L, 2);
	lua_error(L);
}

static void engine_hook(lua_State *L, lua_Debug *ar)
{
	struct qst_engine *e = qst_engine_from(L);

	if (ar->event == LUA_HOOKLINE)
		e->line = ar->currentline;
	if (e->killed)
		qst_engine_raise_kill(L);
	if (ar->event == LUA_HOOKCOUNT) {
		e->instr_used += QST_ENGINE_HOOK_STEP;
		if (e->instr_used > e->instr_cap) {
			int line = e->line;
			if (lua_getinfo(L, "l", ar) && ar->currentline > 0)
				line = ar->currentline;
			qst_engine_kill(e, QST_ENGINE_KILL_INSTRUCTIONS, line);
			qst_engine_raise_kill(L);
		}
		return;
	}
	check_depth(L); /* on line events: every call begins with one */
}

/* ---------------------------------------------------------------- setup */

static int engine_setup(lua_State *L)
{
	lua_pushliteral(L, "script stopped");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &kill_key);
	if (qst_engine_from(L)->data) /* a data file sees no library at all */
		return 0;
	qst_engine_open_sandbox(L);
	qst_engine_open_api(L);
	return 0;
}

/* Error objects that are not strings are described, never converted
 * with __tostring: that would run script code while reporting. */
static int engine_msgh(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TSTRING)
		return 1;
	lua_pushfstring(L, "error object is a %s value (use error(\"text\"))",
			luaL_typename(L, 1));
	return 1;
}

static void format_size(size_t bytes, char *buf, size_t len)
{
	if (bytes >= ((size_t)1 << 20) && bytes % ((size_t)1 << 20) == 0)
		snprintf(buf, len, "%zu MiB", bytes >> 20);
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(buf, len, "%zu KiB", bytes >> 10);
	else
		snprintf(buf, len, "%zu bytes", bytes);
}

static void format_at_line(int line, char *buf, size_t len)
{
	if (line > 0)
		snprintf(buf, len, " at line %d", line);
	else
		buf[0] = '\0';
}

static void report_memory(const struct qst_engine *e, int line,
			  char *errbuf, size_t errlen)
{
	char size[32], at[32];
	format_size(e->mem_cap, size, sizeof(size));
	format_at_line(line, at, sizeof(at));
	format_message(errbuf, errlen,
		       "%s: script stopped: memory limit of %s exceeded%s",
		       e->chunkname, size, at);
}

static int report_kill(const struct qst_engine *e, char *errbuf,
		       size_t errlen)
{
	char at[32];
	format_at_line(e->kill_line, at, sizeof(at));
	switch (e->killed) {
	case QST_ENGINE_KILL_INSTRUCTIONS:
		format_message(errbuf, errlen,
			       "%s: script stopped: instruction budget of "
			       "%llu exceeded (%s)%s",
			       e->chunkname, (unsigned long long)e->instr_cap,
			       e->kill_hint, at);
		return QST_ERR_SCRIPT;
	case QST_ENGINE_KILL_MEMORY:
		report_memory(e, e->kill_line, errbuf, errlen);
		return QST_ERR_SCRIPT;
	case QST_ENGINE_KILL_ABORTED:
		format_message(errbuf, errlen, "%s", e->host_msg);
		return e->host_code;
	default:
		return QST_OK;
	}
}

/* Lua's own messages carry "chunk:line:"; a few (binary chunk refused)
 * carry no name at all, so add it. */
static void report_lua_message(const struct qst_engine *e, const char *msg,
			       char *errbuf, size_t errlen)
{
	size_t n = strlen(e->chunkname);
	if (strncmp(msg, e->chunkname, n) == 0)
		format_message(errbuf, errlen, "%s", msg);
	else
		format_message(errbuf, errlen, "%s: %s", e->chunkname, msg);
}

static int report_result(const struct qst_engine *e, int status,
			 char *errbuf, size_t errlen)
{
	if (e->killed && e->killed != QST_ENGINE_KILL_ENDED)
		return report_kill(e, errbuf, errlen);
	if (e->mem_refused || status == LUA_ERRMEM) {
		report_memory(e, e->mem_refused ? e->ref_line : e->line,
			      errbuf, errlen);
		return QST_ERR_SCRIPT;
	}
	if (status != LUA_OK) {
		const char *msg = lua_tostring(e->L, -1);
		if (!msg)
			msg = "unknown error";
		/* A host error the script did not catch ends it with the
		 * host's code; one it caught is the script's business. */
		if (e->host_code < 0 && strcmp(msg, e->host_msg) == 0) {
			format_message(errbuf, errlen, "%s", msg);
			return e->host_code;
		}
		report_lua_message(e, msg, errbuf, errlen);
		return QST_ERR_SCRIPT;
	}
	if (!e->declared && !e->data) {
		format_message(errbuf, errlen,
			       "%s: the script never calls qst.protocol{...}",
			       e->chunkname);
		return QST_ERR_SCRIPT;
	}
	format_message(errbuf, errlen, "%s", "");
	return QST_OK;
}

/* The data reader, called protected with the chunk's value as arg 1. */
static int data_trampoline(lua_State *L)
{
	struct qst_engine *e = qst_engine_from(L);
	if (!lua_istable(L, 1))
		return luaL_error(L, "the file must return a table "
				     "(return { ... }), not a %s value",
				  luaL_typename(L, 1));
	return e->data->read(L, e->data->user);
}

static int read_data(struct qst_engine *e)
{
	lua_State *L = e->L;
	lua_pushcfunction(L, data_trampoline); /* below: msgh, value */
	lua_insert(L, -2);
	return lua_pcall(L, 1, 0, -3);
}

static int engine_execute(struct qst_engine *e, const char *text,
			  size_t len, char *errbuf, size_t errlen)
{
	lua_State *L = e->L;
	lua_pushcfunction(L, engine_setup);
	int status = lua_pcall(L, 0, 0, 0);
	if (status != LUA_OK)
		return report_result(e, status, errbuf, errlen);

	char chunkid[160];
	snprintf(chunkid, sizeof(chunkid), "=%s", e->chunkname);
	lua_pushcfunction(L, engine_msgh);
	/* Text only: precompiled bytecode can crash the VM. */
	status = luaL_loadbufferx(L, text, len, chunkid, "t");
	if (status == LUA_OK) {
		lua_sethook(L, engine_hook, HOOK_MASK,
			    e->instr_cap < QST_ENGINE_HOOK_STEP ?
				    (int)e->instr_cap + 1 :
				    QST_ENGINE_HOOK_STEP);
		status = lua_pcall(L, 0, e->data ? 1 : 0, -2);
	}
	if (status == LUA_OK && e->data)
		status = read_data(e);
	return report_result(e, status, errbuf, errlen);
}

/* Finalizers still pending run during lua_close: with the engine marked
 * ended they stop at their first instruction and cannot reach the host. */
static void engine_close(struct qst_engine *e)
{
	qst_engine_kill(e, QST_ENGINE_KILL_ENDED, e->line);
	lua_sethook(e->L, engine_hook, HOOK_MASK, 1);
	lua_close(e->L);
	if (e->mem_used != 0)
		qst_warn("%s: %zu bytes unaccounted after close", e->chunkname,
			 e->mem_used);
}

static int engine_run(struct qst_engine *e, const char *text, size_t len,
		      const struct qst_script_limits *limits, char *errbuf,
		      size_t errlen)
{
	const char *chunkname = e->chunkname;
	e->kill_hint = "infinite loop?";
	e->mem_cap = limits && limits->memory_bytes ? limits->memory_bytes :
						      QST_SCRIPT_DEFAULT_MEMORY;
	e->instr_cap = limits && limits->instructions ?
			       limits->instructions :
			       QST_SCRIPT_DEFAULT_INSTRUCTIONS;

	e->L = lua_newstate(engine_alloc, e);
	if (!e->L) {
		char size[32];
		format_size(e->mem_cap, size, sizeof(size));
		format_message(errbuf, errlen,
			       "%s: memory limit of %s is too small to start "
			       "a script",
			       chunkname, size);
		free(e);
		return QST_ERR_NOMEM;
	}
	qst_dbg("%s: running (%zu bytes, heap cap %zu, budget %llu)",
		chunkname, len, e->mem_cap, (unsigned long long)e->instr_cap);

	int rc = engine_execute(e, text, len, errbuf, errlen);
	engine_close(e);
	if (rc < 0)
		qst_dbg("%s: %s", chunkname, errbuf ? errbuf : "");
	free(e);
	return rc;
}

int qst_script_run(const char *text, size_t len, const char *chunkname,
		   const struct qst_script_limits *limits,
		   const struct qst_script_host *host, void *user,
		   char *errbuf, size_t errlen)
{
	format_message(errbuf, errlen, "%s", "");
	if (!chunkname || !chunkname[0])
		chunkname = "script";
	if (!text || !host) {
		format_message(errbuf, errlen, "%s: no script text or host",
			       chunkname);
		return QST_ERR_ARG;
	}
	struct qst_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return QST_ERR_NOMEM;
	e->chunkname = chunkname;
	e->host = host;
	e->user = user;
	return engine_run(e, text, len, limits, errbuf, errlen);
}

int qst_data_eval(const char *text, size_t len, const char *chunkname,
		  const struct qst_script_limits *limits,
		  int (*read)(struct lua_State *L, void *user), void *user,
		  char *errbuf, size_t errlen)
{
	format_message(errbuf, errlen, "%s", "");
	if (!chunkname || !chunkname[0])
		chunkname = "data";
	if (!text || !read) {
		format_message(errbuf, errlen, "%s: no text or reader",
			       chunkname);
		return QST_ERR_ARG;
	}
	struct qst_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return QST_ERR_NOMEM;
	struct qst_engine_data data = { read, user };
	e->chunkname = chunkname;
	e->data = &data;
	return engine_run(e, text, len, limits, errbuf, errlen);
}
