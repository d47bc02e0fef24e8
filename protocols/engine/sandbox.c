/*
 * The standard library a protocol script sees: base, string, table, math
 * and utf8, minus everything that reaches files, the process, other code
 * or the collector's controls (docs/protocol-api.md, "The sandbox").
 *
 * A few library functions loop in C, where the count hook cannot see them;
 * their wrappers charge the work to the instruction budget up front.
 */
#define LOG_PREFIX "sandbox: "

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <string.h>

#include "engine_internal.h"
#include "qst_core.h"

/* Fixed so that a script using math.random behaves the same every run. */
#define SANDBOX_RANDOM_SEED 20260101

static const char *const removed_globals[] = {
	"dofile", "loadfile", "load", "require", "warn", NULL,
};

/*
 * Work a C function does on bytes or elements, in instruction units: a
 * VM instruction costs about as much as moving this many bytes.
 */
#define BYTES_PER_UNIT 16.0
#define C_WORK_HINT "library call on huge data?"

static double string_bytes(lua_State *L, int from, int to)
{
	double bytes = 0.0;
	for (int i = from; i <= to; i++)
		if (lua_type(L, i) == LUA_TSTRING)
			bytes += (double)lua_rawlen(L, i);
	return bytes;
}

/*
 * Call the wrapped original (upvalue 1) with all arguments, charging the
 * strings and values going in and out: a loop calling string.upper on a
 * 16 MiB string costs a few instructions per call but milliseconds of C.
 */
static int call_original(lua_State *L)
{
	int n = lua_gettop(L);
	qst_engine_charge(L, 1.0 + n + string_bytes(L, 1, n) / BYTES_PER_UNIT,
			  C_WORK_HINT);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n, LUA_MULTRET);
	int results = lua_gettop(L);
	qst_engine_charge(L, results + string_bytes(L, 1, results) /
						 BYTES_PER_UNIT,
			  C_WORK_HINT);
	return results;
}

/* #t through __len, as the table library sees it; 0 for non-tables (the
 * original then reports the bad argument). */
static lua_Integer table_length(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TTABLE)
		return 0;
	return luaL_len(L, 1);
}

static void charge_elements(lua_State *L, lua_Integer from, lua_Integer to,
			    const char *hint)
{
	if (to >= from)
		qst_engine_charge(L, (double)to - (double)from + 1.0, hint);
}

/* table.insert(t, pos, v) shifts #t - pos elements in C. */
static int sandbox_insert(lua_State *L)
{
	if (lua_gettop(L) == 3 && lua_isinteger(L, 2))
		charge_elements(L, lua_tointeger(L, 2), table_length(L),
				"table.insert into a huge table?");
	return call_original(L);
}

/* table.remove(t, pos) shifts #t - pos elements in C. */
static int sandbox_remove(lua_State *L)
{
	lua_Integer len = table_length(L);
	lua_Integer pos = lua_isinteger(L, 2) ? lua_tointeger(L, 2) : len;
	charge_elements(L, pos, len, "table.remove from a huge table?");
	return call_original(L);
}

static int sandbox_concat(lua_State *L)
{
	lua_Integer first = lua_isinteger(L, 3) ? lua_tointeger(L, 3) : 1;
	lua_Integer last = lua_isinteger(L, 4) ? lua_tointeger(L, 4) :
						 table_length(L);
	charge_elements(L, first, last, "table.concat over a huge range?");
	return call_original(L);
}

static int sandbox_sort(lua_State *L)
{
	double n = (double)table_length(L);
	if (n > 1)
		qst_engine_charge(L, n * log2(n), "table.sort of a huge table?");
	return call_original(L);
}

/* string.rep("", 2^62) would copy nothing 2^62 times in C. */
static int sandbox_rep(lua_State *L)
{
	size_t len = 0, seplen = 0;
	luaL_checklstring(L, 1, &len);
	lua_Integer n = luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &seplen);
	if (n <= 0 || len + seplen == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	return call_original(L);
}

/* table.move copies element by element in C. */
static int sandbox_move(lua_State *L)
{
	lua_Integer f = luaL_checkinteger(L, 2);
	lua_Integer e = luaL_checkinteger(L, 3);
	if (e >= f)
		qst_engine_charge(L, (double)e - (double)f + 1.0,
				  "table.move over a huge range?");
	return call_original(L);
}

/*
 * Worst-case steps of Lua's backtracking matcher: every start position
 * times the subject length once per quantifier, balance (%b) or back
 * reference, times the pattern length. It overestimates simple patterns
 * on short strings by little, and it stops ".-.-.-x" on a long subject
 * before the matcher spends hours in C.
 */
static double pattern_cost(const char *p, size_t plen, size_t slen,
			   bool anchorable)
{
	bool anchored = anchorable && plen > 0 && p[0] == '^';
	int nested = 0;
	for (size_t i = 0; i < plen; i++) {
		char c = p[i];
		if (c == '%' && i + 1 < plen) {
			char next = p[++i];
			if (next == 'b' || (next >= '1' && next <= '9'))
				nested++;
		} else if (c == '*' || c == '+' || c == '-' || c == '?') {
			nested++;
		}
	}
	double n = (double)slen + 1.0;
	double cost = (anchored ? 1.0 : n) * ((double)plen + 1.0);
	for (int k = 0; k < nested && cost < 1e30; k++)
		cost *= n;
	return cost;
}

static void charge_pattern(lua_State *L, bool anchorable)
{
	size_t slen = 0, plen = 0;
	luaL_checklstring(L, 1, &slen);
	const char *p = luaL_checklstring(L, 2, &plen);
	qst_engine_charge(L, pattern_cost(p, plen, slen, anchorable),
			  "string pattern too costly for the subject length?");
}

static int sandbox_find(lua_State *L)
{
	if (lua_toboolean(L, 4)) { /* plain search: linear */
		size_t slen = 0, plen = 0;
		luaL_checklstring(L, 1, &slen);
		luaL_checklstring(L, 2, &plen);
		qst_engine_charge(L, ((double)slen + 1) * ((double)plen + 1),
				  "string.find on a huge subject?");
	} else {
		charge_pattern(L, true);
	}
	return call_original(L);
}

static int sandbox_match(lua_State *L)
{
	charge_pattern(L, true);
	return call_original(L);
}

static int sandbox_gsub(lua_State *L)
{
	charge_pattern(L, true);
	return call_original(L);
}

/* In gmatch a leading '^' is no anchor (Lua 5.4 manual §6.4.1). */
static int sandbox_gmatch(lua_State *L)
{
	charge_pattern(L, false);
	return call_original(L);
}

/* Only "collect" and "count": "stop" would let garbage pile up to the
 * cap, and the tuning options change nothing a protocol needs. */
static int sandbox_collectgarbage(lua_State *L)
{
	const char *opt = luaL_optstring(L, 1, "collect");
	if (strcmp(opt, "collect") != 0 && strcmp(opt, "count") != 0)
		return luaL_error(L, "collectgarbage('%s') is not available to "
				     "protocol scripts (only 'collect' and "
				     "'count')",
				  opt);
	lua_settop(L, 1);
	if (strcmp(opt, "collect") == 0) /* a full mark of the heap */
		qst_engine_charge(L, (double)qst_engine_from(L)->mem_used /
					     BYTES_PER_UNIT,
				  "collectgarbage in a tight loop?");
	return call_original(L);
}

static void wrap_field(lua_State *L, const char *name, lua_CFunction fn)
{
	lua_getfield(L, -1, name);
	lua_pushcclosure(L, fn, 1);
	lua_setfield(L, -2, name);
}

static bool is_plain_cfunction(lua_State *L, int idx)
{
	if (!lua_iscfunction(L, idx))
		return false;
	if (lua_getupvalue(L, idx, 1)) { /* already wrapped */
		lua_pop(L, 1);
		return false;
	}
	return true;
}

/* Meter every C function of the library table on top of the stack that
 * has no wrapper of its own. */
static void meter_library(lua_State *L)
{
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (is_plain_cfunction(L, -1)) {
			lua_pushcclosure(L, call_original, 1);
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -4); /* replacing a field is safe in next */
		} else {
			lua_pop(L, 1);
		}
	}
}

static void open_library(lua_State *L, const char *name, lua_CFunction open)
{
	luaL_requiref(L, name, open, 1);
	lua_pop(L, 1);
}

static void restrict_globals(lua_State *L)
{
	lua_pushglobaltable(L);
	for (const char *const *g = removed_globals; *g; g++) {
		lua_pushnil(L);
		lua_setfield(L, -2, *g);
	}
	wrap_field(L, "collectgarbage", sandbox_collectgarbage);
	wrap_field(L, "tonumber", call_original); /* scans whole strings */
	lua_pop(L, 1);
}

static void restrict_string(lua_State *L)
{
	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump"); /* bytecode out is the first half of
					bytecode in */
	wrap_field(L, "rep", sandbox_rep);
	wrap_field(L, "find", sandbox_find);
	wrap_field(L, "match", sandbox_match);
	wrap_field(L, "gmatch", sandbox_gmatch);
	wrap_field(L, "gsub", sandbox_gsub);
	meter_library(L);
	lua_pop(L, 1);
}

static void restrict_table(lua_State *L)
{
	lua_getglobal(L, "table");
	wrap_field(L, "move", sandbox_move);
	wrap_field(L, "insert", sandbox_insert);
	wrap_field(L, "remove", sandbox_remove);
	wrap_field(L, "concat", sandbox_concat);
	wrap_field(L, "sort", sandbox_sort);
	meter_library(L);
	lua_pop(L, 1);
}

static void meter_utf8(lua_State *L)
{
	lua_getglobal(L, "utf8");
	meter_library(L);
	lua_pop(L, 1);
}

static void seed_random(lua_State *L)
{
	lua_getglobal(L, "math");
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, SANDBOX_RANDOM_SEED);
	lua_call(L, 1, 0);
	lua_pop(L, 1);
}

void qst_engine_open_sandbox(lua_State *L)
{
	/* No io, os, package, debug, coroutine: nothing a protocol needs
	 * that the qst table does not offer. */
	open_library(L, LUA_GNAME, luaopen_base);
	open_library(L, LUA_STRLIBNAME, luaopen_string);
	open_library(L, LUA_TABLIBNAME, luaopen_table);
	open_library(L, LUA_MATHLIBNAME, luaopen_math);
	open_library(L, LUA_UTF8LIBNAME, luaopen_utf8);
	restrict_globals(L);
	restrict_string(L);
	restrict_table(L);
	meter_utf8(L);
	seed_random(L);
}
