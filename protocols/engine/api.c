/*
 * The qst table a protocol script talks to (docs/protocol-api.md). Every
 * function checks its arguments here — type, plausible range, unknown keys
 * — and hands the station a filled struct through struct qst_script_host.
 * Hard safety limits are not checked here: the station's supervisor owns
 * them, so a plausible but unsafe request must reach the host and be
 * refused there.
 */
#define LOG_PREFIX "engine: "

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "qst_adaptive.h"
#include "qst_analysis.h"
#include "qst_core.h"

/* qst-domain.md §1.4, §2.1, §2.3 (DFNS thermal defaults). */
#define DFNS_BASELINE_C 32.0
#define DFNS_RATE_C_S 1.0
#define DFNS_RETURN_DETECTION_C_S 1.0
#define DFNS_RETURN_PAIN_C_S 5.0
#define DFNS_CUTOFF_COLD_C 0.0
#define DFNS_CUTOFF_HOT_C 50.0
#define DFNS_REPETITIONS 3
/* §2.1: ISI is unspecified by DFNS; "≥ 4–10 s, configurable". */
#define DFNS_ISI_S 6.0
#define DFNS_ISI_JITTER_S 2.0

/* Plausibility only; the supervisor enforces the real limits (§8.1). */
#define PLAUSIBLE_MIN_C (-20.0)
#define PLAUSIBLE_MAX_C 80.0
#define MAX_RATE_C_S 20.0
#define MAX_ISI_S 600.0
#define MAX_REPETITIONS 20
#define MAX_WAIT_S 3600.0

#define HOST_ERRLEN 512

/* qst-domain.md §7.2 (Pathway example): initial step 4, minimum 0.25 °C. */
#define LEVELS_INITIAL_STEP_C 4.0
#define LEVELS_MIN_STEP_C 0.25
/* Our defaults for a yes/no presentation [D]: a 1 s plateau (§7.2 hold
 * variant, trapezoid per Reulen §7.1) and 2 s to answer after it. */
#define YESNO_HOLD_S 1.0
#define YESNO_WINDOW_S 2.0
#define YESNO_MAX_TRIALS 30
#define MAX_YESNO_TRIALS 200
#define MAX_HOLD_S 60.0
#define MAX_WINDOW_S 30.0
/* §7.5 leaves the proportion open; more than half null is no test. */
#define MAX_CATCH_P 0.5
/* §7.3: 1-up/1-down by default; reversals and last-k "commonly 6–8". */
#define STAIR_STEP_C 1.0
#define STAIR_REVERSALS 8
#define STAIR_LAST_K 6
/* §7.3 Pain5 (S21): 45 °C, ±1 °C, NRS 5/10, a 0.5 s pulse, twice, 90 s
 * apart. Pulse rates, the ISI, floor and pulse cap are our choice [D]. */
#define PAIN5_START_C 45.0
#define PAIN5_STEP_C 1.0
#define PAIN5_TARGET 5.0
#define PAIN5_PULSE_S 0.5
#define PAIN5_RATE_C_S 10.0
#define PAIN5_REPEATS 2
#define PAIN5_REST_S 90.0
#define PAIN5_ISI_S 10.0
#define PAIN5_FLOOR_C 40.0
#define PAIN5_MAX_PULSES 15
#define MAX_PULSES 50

/* qst-domain.md §1.4, §2.4–§2.9 (DFNS mechanical defaults). */
#define DFNS_SERIES_START_MN 16.0
#define DFNS_SERIES_PAIRS 5
#define DFNS_SRF_RUNS 5
#define DFNS_WUR_REPETITIONS 5
#define DFNS_WUR_FORCE_MN 256.0
#define DFNS_WUR_TRAIN 10
#define DFNS_WUR_RATE_HZ 1.0
#define DFNS_VDT_READINGS 3
#define DFNS_PPT_TRIALS 3
#define DFNS_PPT_RATE_KPA_S 50.0
/* §2.9 leaves the rest between PPT trials open; 10 s is our choice. */
#define DFNS_PPT_ISI_S 10.0
/* §1.4: the von Frey set 0.25..512 mN and the pinpricks 8..512 mN. */
#define VONFREY_MIN_MN 0.25
#define PINPRICK_MIN_MN 8.0
/* Plausibility of the mechanical settings (not safety limits). */
#define MAX_TRAIN 50
#define MAX_TRAIN_HZ 5.0
#define MAX_PPT_RATE_KPA_S 500.0

/* qst-domain.md §6.1 (TSP): 10 pulses, 0.5 s at peak, >= 0.33 Hz; 0.4 Hz
 * (Staud). The baseline is the TCS II's highest neutral (40 °C, §8.1), the
 * nearest to the 44 °C of Kell the device allows, so that a pulse to 48
 * °C at the station's 10 °C/s rate ceiling fits a 2.5 s period. */
#define TSP_PULSES 10
#define TSP_FREQUENCY_HZ 0.4
#define TSP_HOLD_S 0.5
#define TSP_BASELINE_C 40.0
#define TSP_RATE_C_S 10.0
#define MAX_TRAIN_FREQUENCY_HZ 5.0
#define MAX_SEGMENT_S 600.0
#define WAVEFORM_RETURN_C_S 5.0

/* A table argument being read: which one, and for whom. */
struct fields {
	lua_State *L;
	int t;
	const char *fn;
};

static const char *const protocol_keys[] = {
	"name", "version", "description", "devices", NULL,
};
static const char *const limits_keys[] = {
	"test", "baseline", "rate", "return_rate", "cutoff",
	"repetitions", "isi", "isi_jitter", NULL,
};
static const char *const tsl_keys[] = {
	"baseline", "rate", "lower_cutoff", "upper_cutoff",
	"pairs", "return_rate", "isi", NULL,
};
static const char *const series_keys[] = {
	"start", "series", "out_of_range", "site", NULL,
};
static const char *const srf_keys[] = { "runs", "site", NULL };
static const char *const wur_keys[] = {
	"repetitions", "force", "train", "rate", "site", NULL,
};
static const char *const vdt_keys[] = { "readings", "sham", "site", NULL };
static const char *const ppt_keys[] = {
	"trials", "rate", "isi", "site", NULL,
};
static const char *const ask_keys[] = { "text", "answer", NULL };
static const char *const train_keys[] = {
	"peak", "baseline", "n", "frequency", "hold", "rise", "fall",
	"rate_after", "site", NULL,
};
static const char *const condition_keys[] = { "on", "intensity", "what", NULL };
static const char *const segment_keys[] = { "to", "rate", "duration", NULL };
/* Issue 6: the adaptive thermal methods share the presentation keys. */
#define YESNO_KEYS "test", "baseline", "rate", "return_rate", "hold", \
	"window", "cutoff", "isi", "isi_jitter", "catch", "max_trials"
static const char *const levels_keys[] = {
	YESNO_KEYS, "start", "step", "min_step", NULL,
};
static const char *const staircase_keys[] = {
	YESNO_KEYS, "down", "start", "step", "min_step", "reversals", "last",
	"floor", NULL,
};
static const char *const calibrate_keys[] = {
	"baseline", "start", "step", "target", "tolerance", "bracket",
	"scale", "pulse", "rate", "return_rate", "floor", "ceiling",
	"max_pulses", "repeats", "rest", "isi", NULL,
};
/* Order = enum qst_rating_scale. */
static const char *const scale_names[] = { "nrs100", "nrs10", NULL };
/* Order = enum qst_out_of_range. */
static const char *const out_of_range_names[] = { "clamp", "next", NULL };
/* Order = enum qst_answer_kind. */
static const char *const answer_names[] = {
	"yesno", "sharpblunt", "rating", "eighths", NULL,
};
static const char *const device_classes[] = {
	"thermal", "response", "pressure", "vibration", "rating", "sync", NULL,
};

/* ------------------------------------------------------------- helpers */

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static void push_list(lua_State *L, const char *const *list)
{
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (const char *const *k = list; *k; k++) {
		if (k != list)
			luaL_addstring(&b, ", ");
		luaL_addstring(&b, *k);
	}
	luaL_pushresult(&b);
}

/* Every call starts here: a stopped script reaches nothing. */
static struct qst_engine *api_enter(lua_State *L, const char *fn,
				    bool needs_protocol)
{
	struct qst_engine *e = qst_engine_from(L);
	if (e->killed)
		qst_engine_raise_kill(L);
	if (needs_protocol && !e->declared)
		luaL_error(L, "%s: call qst.protocol{...} first, before any "
			      "other station call",
			   fn);
	return e;
}

static void require_device(lua_State *L, const struct qst_engine *e,
			   const char *fn, const char *dev)
{
	for (int i = 0; i < e->decl.n_devices; i++)
		if (strcmp(e->decl.devices[i], dev) == 0)
			return;
	luaL_error(L, "%s: the protocol does not declare the '%s' device "
		      "(add it to qst.protocol{ devices = {...} })",
		   fn, dev);
}

/*
 * Turn a host callback's result into the script's view: nothing on
 * success, a Lua error carrying the host's text otherwise. The text is
 * kept so the engine can tell whether this error ended the script.
 * QST_ERR_ABORTED (emergency stop, signal) is final: no catching it.
 */
static void host_result(lua_State *L, struct qst_engine *e, const char *fn,
			int rc, const char *errbuf)
{
	if (rc >= 0)
		return;
	const char *text = errbuf && errbuf[0] ? errbuf : qst_strerror(rc);
	/* The calling script line, also when called through pcall. */
	lua_Debug ar;
	int line = -1;
	for (int level = 1; line <= 0 && lua_getstack(L, level, &ar); level++)
		if (lua_getinfo(L, "l", &ar))
			line = ar.currentline;
	if (line > 0)
		snprintf(e->host_msg, sizeof(e->host_msg), "%s:%d: %s: %s",
			 e->chunkname, line, fn, text);
	else
		snprintf(e->host_msg, sizeof(e->host_msg), "%s: %s: %s",
			 e->chunkname, fn, text);
	e->host_code = rc;
	if (rc == QST_ERR_ABORTED) {
		qst_engine_kill(e, QST_ENGINE_KILL_ABORTED, line);
		qst_engine_raise_kill(L);
	}
	lua_pushstring(L, e->host_msg);
	lua_error(L);
}

static void host_missing(lua_State *L, struct qst_engine *e, const char *fn)
{
	host_result(L, e, fn, QST_ERR_UNSUPPORTED,
		    "not supported by this station");
}

static const char *check_text(lua_State *L, int arg, const char *fn,
			      const char *what)
{
	if (lua_type(L, arg) != LUA_TSTRING)
		luaL_error(L, "%s: %s must be a string, got %s", fn, what,
			   luaL_typename(L, arg));
	size_t len;
	const char *s = lua_tolstring(L, arg, &len);
	if (!s[0])
		luaL_error(L, "%s: %s must not be empty", fn, what);
	const char *bad = qst_text_problem(s, len, true);
	if (bad)
		luaL_error(L, "%s: %s holds %s", fn, what, bad);
	return s;
}

/* ------------------------------------------------------- table fields */

static struct fields open_fields(lua_State *L, int arg, const char *fn,
				 const char *const *keys, bool optional)
{
	lua_settop(L, arg);
	if (optional && lua_isnil(L, arg)) {
		lua_newtable(L);
		lua_replace(L, arg);
	}
	if (lua_type(L, arg) != LUA_TTABLE)
		luaL_error(L, "%s expects a table of settings, e.g. %s{ ... }; "
			      "got %s",
			   fn, fn, luaL_typename(L, arg));
	lua_pushnil(L);
	while (lua_next(L, arg)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			luaL_error(L, "%s: unexpected %s key (settings are "
				      "written key = value)",
				   fn, luaL_typename(L, -1));
		}
		const char *key = lua_tostring(L, -1);
		if (!in_list(key, keys)) {
			push_list(L, keys);
			luaL_error(L, "%s: unknown key '%s' (allowed: %s)", fn,
				   key, lua_tostring(L, -1));
		}
	}
	return (struct fields){ L, arg, fn };
}

/* Push the raw value of key; true when it is present. */
static bool field_get(const struct fields *f, const char *key)
{
	lua_pushstring(f->L, key);
	lua_rawget(f->L, f->t);
	if (lua_isnil(f->L, -1)) {
		lua_pop(f->L, 1);
		return false;
	}
	return true;
}

struct range {
	double lo, hi;
	bool lo_open; /* lo itself not allowed */
	const char *unit;
};

static double field_number(const struct fields *f, const char *key,
			   double def, struct range r)
{
	lua_State *L = f->L;
	if (!field_get(f, key))
		return def;
	if (lua_type(L, -1) != LUA_TNUMBER)
		luaL_error(L, "%s: %s must be a number (%s), got %s", f->fn,
			   key, r.unit, luaL_typename(L, -1));
	double v = lua_tonumber(L, -1);
	lua_pop(L, 1);
	bool ok = isfinite(v) && (r.lo_open ? v > r.lo : v >= r.lo) &&
		  v <= r.hi;
	if (!ok) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "%s: %s = %g %s is out of range (allowed: %s %g to "
			 "%g %s)",
			 f->fn, key, v, r.unit, r.lo_open ? "above" : "from",
			 r.lo, r.hi, r.unit);
		luaL_error(L, "%s", msg);
	}
	return v;
}

static int field_integer(const struct fields *f, const char *key, int def,
			 int lo, int hi)
{
	lua_State *L = f->L;
	if (!field_get(f, key))
		return def;
	int isint = 0;
	lua_Integer v = lua_tointegerx(L, -1, &isint);
	if (lua_type(L, -1) != LUA_TNUMBER || !isint)
		luaL_error(L, "%s: %s must be a whole number, got %s", f->fn,
			   key,
			   lua_type(L, -1) == LUA_TNUMBER ?
				   lua_tostring(L, -1) :
				   luaL_typename(L, -1));
	lua_pop(L, 1);
	if (v < lo || v > hi)
		luaL_error(L, "%s: %s = %I is out of range (allowed: %d to %d)",
			   f->fn, key, (LUA_INTEGER)v, lo, hi);
	return (int)v;
}

/* Copy a string (or number) field; too long is an error, not a cut. */
static void field_string(const struct fields *f, const char *key,
			 bool required, char *out, size_t outlen)
{
	lua_State *L = f->L;
	out[0] = '\0';
	if (!field_get(f, key)) {
		if (required)
			luaL_error(L, "%s: %s is required", f->fn, key);
		return;
	}
	int type = lua_type(L, -1);
	if (type != LUA_TSTRING && type != LUA_TNUMBER)
		luaL_error(L, "%s: %s must be a string, got %s", f->fn, key,
			   luaL_typename(L, -1));
	size_t len = 0;
	const char *s = lua_tolstring(L, -1, &len);
	if (len >= outlen || strlen(s) != len)
		luaL_error(L, "%s: %s is too long or holds a NUL byte (at most "
			      "%d bytes)",
			   f->fn, key, (int)outlen - 1);
	if (required && len == 0)
		luaL_error(L, "%s: %s must not be empty", f->fn, key);
	const char *bad = qst_text_problem(s, len, false);
	if (bad)
		luaL_error(L, "%s: %s holds %s", f->fn, key, bad);
	memcpy(out, s, len + 1);
	lua_pop(L, 1);
}

static bool field_boolean(const struct fields *f, const char *key, bool def)
{
	lua_State *L = f->L;
	if (!field_get(f, key))
		return def;
	if (lua_type(L, -1) != LUA_TBOOLEAN)
		luaL_error(L, "%s: %s must be true or false, got %s", f->fn, key,
			   luaL_typename(L, -1));
	bool v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* One of a list of names: its index. Case matters, as for keys. */
static int field_choice(const struct fields *f, const char *key, int def,
			const char *const *names)
{
	lua_State *L = f->L;
	if (!field_get(f, key)) {
		if (def >= 0)
			return def;
		push_list(L, names);
		luaL_error(L, "%s: %s is required (one of: %s)", f->fn, key,
			   lua_tostring(L, -1));
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "%s: %s must be a string, got %s", f->fn, key,
			   luaL_typename(L, -1));
	const char *v = lua_tostring(L, -1);
	for (int i = 0; names[i]; i++)
		if (strcmp(v, names[i]) == 0) {
			lua_pop(L, 1);
			return i;
		}
	push_list(L, names);
	luaL_error(L, "%s: %s = \"%s\" is not allowed (one of: %s)", f->fn,
		   key, v, lua_tostring(L, -1));
	return def;
}

static void field_devices(const struct fields *f,
			  struct qst_protocol_decl *decl)
{
	lua_State *L = f->L;
	if (!field_get(f, "devices"))
		return;
	if (lua_type(L, -1) != LUA_TTABLE)
		luaL_error(L, "%s: devices must be a list such as "
			      "{ \"thermal\", \"response\" }, got %s",
			   f->fn, luaL_typename(L, -1));
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	if (n > QST_PROTOCOL_MAX_DEVICES)
		luaL_error(L, "%s: at most %d devices", f->fn,
			   QST_PROTOCOL_MAX_DEVICES);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "%s: devices[%I] must be a string, got "
				      "%s",
				   f->fn, (LUA_INTEGER)i, luaL_typename(L, -1));
		const char *dev = lua_tostring(L, -1);
		if (!in_list(dev, device_classes)) {
			push_list(L, device_classes);
			luaL_error(L, "%s: unknown device class '%s' (known: "
				      "%s)",
				   f->fn, dev, lua_tostring(L, -1));
		}
		for (int j = 0; j < decl->n_devices; j++)
			if (strcmp(decl->devices[j], dev) == 0)
				luaL_error(L, "%s: device '%s' is listed twice",
					   f->fn, dev);
		snprintf(decl->devices[decl->n_devices++],
			 sizeof(decl->devices[0]), "%s", dev);
		lua_pop(L, 1);
	}
	/* Keys other than 1..n would be silently ignored: refuse them. */
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		lua_Integer k = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
		if (k < 1 || k > n)
			luaL_error(L, "%s: devices must be a plain list of "
				      "names",
				   f->fn);
	}
	lua_pop(L, 1);
}

/* -------------------------------------------------------- qst.protocol */

static int api_protocol(lua_State *L)
{
	const char *fn = "qst.protocol";
	struct qst_engine *e = api_enter(L, fn, false);
	if (e->declared)
		return luaL_error(L, "%s: called a second time (a script "
				     "declares itself exactly once)",
				  fn);
	struct fields f = open_fields(L, 1, fn, protocol_keys, false);
	struct qst_protocol_decl decl;
	memset(&decl, 0, sizeof(decl));
	field_string(&f, "name", true, decl.name, sizeof(decl.name));
	field_string(&f, "version", false, decl.version,
		     sizeof(decl.version));
	field_string(&f, "description", false, decl.description,
		     sizeof(decl.description));
	field_devices(&f, &decl);

	if (!e->host->declare)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->declare(e->user, &decl, err,
						 sizeof(err)),
		    err);
	e->decl = decl;
	e->declared = true;
	return 0;
}

/* ------------------------------------------------- text and timing calls */

static int api_section(lua_State *L)
{
	const char *fn = "qst.section";
	struct qst_engine *e = api_enter(L, fn, true);
	const char *title = check_text(L, 1, fn, "the title");
	if (!e->host->section)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->section(e->user, title, err,
						 sizeof(err)),
		    err);
	return 0;
}

static int api_instruct(lua_State *L)
{
	const char *fn = "qst.instruct";
	struct qst_engine *e = api_enter(L, fn, true);
	const char *text = check_text(L, 1, fn, "the instruction");
	if (!e->host->instruct)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->instruct(e->user, text, err,
						  sizeof(err)),
		    err);
	return 0;
}

/* qst.log(...) and print(...): values joined by tabs, like print. */
static int api_log(lua_State *L)
{
	struct qst_engine *e = api_enter(L, "qst.log", false);
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		/* Strings and numbers plainly: a script that put __tostring
		 * on the string metatable must not run it from here. */
		int t = lua_type(L, i);
		if (t == LUA_TSTRING || t == LUA_TNUMBER)
			lua_pushvalue(L, i), lua_tolstring(L, -1, NULL);
		else
			luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	/* Like print, anything goes in; what reaches the terminal and the
	 * file is printable UTF-8. */
	char *msg = lua_newuserdatauv(L, lua_rawlen(L, -1) + 1, 0);
	memcpy(msg, lua_tostring(L, -2), lua_rawlen(L, -2) + 1);
	qst_text_sanitize(msg, true);
	if (e->host->log)
		e->host->log(e->user, msg);
	else
		qst_info("%s: %s", e->chunkname, msg);
	return 0;
}

static int api_wait(lua_State *L)
{
	const char *fn = "qst.wait";
	struct qst_engine *e = api_enter(L, fn, true);
	if (lua_type(L, 1) != LUA_TNUMBER)
		return luaL_error(L, "%s: seconds must be a number, got %s",
				  fn, luaL_typename(L, 1));
	double s = lua_tonumber(L, 1);
	if (!isfinite(s) || s < 0.0 || s > MAX_WAIT_S) {
		char msg[128];
		snprintf(msg, sizeof(msg),
			 "%s: %g s is out of range (allowed: 0 to %g s)", fn,
			 s, MAX_WAIT_S);
		return luaL_error(L, "%s", msg);
	}
	if (!e->host->wait)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->wait(e->user, s, err, sizeof(err)),
		    err);
	return 0;
}

/* qst.sync(code [, pulse_ms]): an EEG/fMRI marker (devices.md §6); the
 * pulse must last at least 2 samples of the recorder: 10 ms by default. */
static int api_sync(lua_State *L)
{
	const char *fn = "qst.sync";
	struct qst_engine *e = api_enter(L, fn, true);
	require_device(L, e, fn, "sync");
	lua_Integer code = luaL_checkinteger(L, 1);
	lua_Integer pulse = luaL_optinteger(L, 2, 10);
	if (code < 1 || code > 255)
		return luaL_error(L, "%s: code %I is out of range (allowed: 1 "
				  "to 255; 0 is the line at rest)", fn, code);
	if (pulse < 1 || pulse > 10000)
		return luaL_error(L, "%s: pulse %I ms is out of range (allowed: "
				  "1 to 10000 ms)", fn, pulse);
	if (!e->host->sync)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->sync(e->user, (int)code, (int)pulse, err,
					    sizeof(err)), err);
	return 0;
}

/* One optional number of qst.mark: NaN when absent, so the analysis can
 * tell "no value" from 0. */
static double mark_value(lua_State *L, int arg, const char *fn)
{
	if (lua_isnoneornil(L, arg))
		return NAN;
	if (lua_type(L, arg) != LUA_TNUMBER)
		luaL_error(L, "%s: value %d must be a number, got %s", fn,
			   arg - 1, luaL_typename(L, arg));
	double v = lua_tonumber(L, arg);
	if (isinf(v))
		luaL_error(L, "%s: value %d must be finite", fn, arg - 1);
	return isnan(v) ? NAN : v; /* 0/0 is a negative NaN on x86 */
}

/* qst.mark(label [, value [, value2]]): a design point the analysis
 * finds by its label (docs/paradigms.md); the label goes in as qst.log's
 * text does, made printable. */
static int api_mark(lua_State *L)
{
	const char *fn = "qst.mark";
	struct qst_engine *e = api_enter(L, fn, true);
	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_error(L, "%s: the label must be a string, got %s",
				  fn, luaL_typename(L, 1));
	if (lua_rawlen(L, 1) == 0)
		return luaL_error(L, "%s: the label must not be empty", fn);
	double v = mark_value(L, 2, fn), v2 = mark_value(L, 3, fn);
	char *label = lua_newuserdatauv(L, lua_rawlen(L, 1) + 1, 0);
	memcpy(label, lua_tostring(L, 1), lua_rawlen(L, 1) + 1);
	qst_text_sanitize(label, true);
	if (!e->host->mark)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->mark(e->user, label, v, v2, err,
					    sizeof(err)), err);
	return 0;
}

/* qst.condition{ on =, intensity =, what = }: the CPM conditioning
 * stimulus (qst-domain.md §6.3) starts or stops; the operator applies it. */
static int api_condition(lua_State *L)
{
	const char *fn = "qst.condition";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, condition_keys, false);
	struct qst_condition_params p;
	memset(&p, 0, sizeof(p));
	if (!field_get(&f, "on"))
		return luaL_error(L, "%s: on is required (true: the conditioning "
				     "stimulus starts, false: it stops)", fn);
	lua_pop(L, 1);
	p.on = field_boolean(&f, "on", false);
	p.intensity = field_number(&f, "intensity", p.on ? 1.0 : NAN,
				   (struct range){ 0.0, 1.0, false, "of 1" });
	if (!p.on)
		p.intensity = NAN; /* stopping has no strength */
	field_string(&f, "what", false, p.what, sizeof(p.what));
	if (!p.what[0])
		snprintf(p.what, sizeof(p.what), "conditioning stimulus");
	if (!e->host->condition)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->condition(e->user, &p, err,
						 sizeof(err)), err);
	return 0;
}

static int api_now(lua_State *L)
{
	struct qst_engine *e = api_enter(L, "qst.now", false);
	lua_pushnumber(L, e->host->now ? e->host->now(e->user) : 0.0);
	return 1;
}

static int check_test_name(lua_State *L, int arg, const char *fn)
{
	const char *name = check_text(L, arg, fn, "test");
	int p = qst_param_from_name(name);
	if (p < 0)
		luaL_error(L, "%s: unknown test '%s' (expected a DFNS "
			      "parameter such as CDT, WDT, TSL, CPT, HPT)",
			   fn, name);
	return p;
}

static int api_not_done(lua_State *L)
{
	const char *fn = "qst.not_done";
	struct qst_engine *e = api_enter(L, fn, true);
	int test = check_test_name(L, 1, fn);
	const char *reason = check_text(L, 2, fn, "the reason");
	if (!e->host->not_done)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->not_done(e->user, test, reason, err,
						  sizeof(err)),
		    err);
	return 0;
}

/* ------------------------------------------------ thermal test methods */

static const struct range temperature_range = {
	PLAUSIBLE_MIN_C, PLAUSIBLE_MAX_C, false, "°C"
};
static const struct range rate_range = { 0.0, MAX_RATE_C_S, true, "°C/s" };
static const struct range isi_range = { 0.0, MAX_ISI_S, false, "s" };

static int limits_test(const struct fields *f)
{
	lua_State *L = f->L;
	if (!field_get(f, "test"))
		luaL_error(L, "%s: test is required (CDT, WDT, CPT or HPT)",
			   f->fn);
	int p = check_test_name(L, lua_gettop(L), f->fn);
	if (p != QST_CDT && p != QST_WDT && p != QST_CPT && p != QST_HPT)
		luaL_error(L, "%s: test '%s' is not a method-of-limits test "
			      "(CDT, WDT, CPT or HPT%s)",
			   f->fn, qst_param_name(p),
			   p == QST_TSL ? "; TSL is qst.tsl{}" : "");
	lua_pop(L, 1);
	return p;
}

static void limits_read(const struct fields *f, struct qst_limits_params *p)
{
	p->test = limits_test(f);
	bool cooling = p->test == QST_CDT || p->test == QST_CPT;
	bool pain = p->test == QST_CPT || p->test == QST_HPT;
	p->direction = cooling ? -1 : +1;
	p->baseline_c = field_number(f, "baseline", DFNS_BASELINE_C,
				     temperature_range);
	p->rate_c_s = field_number(f, "rate", DFNS_RATE_C_S, rate_range);
	p->return_rate_c_s = field_number(
		f, "return_rate",
		pain ? DFNS_RETURN_PAIN_C_S : DFNS_RETURN_DETECTION_C_S,
		rate_range);
	p->cutoff_c = field_number(f, "cutoff",
				   cooling ? DFNS_CUTOFF_COLD_C :
					     DFNS_CUTOFF_HOT_C,
				   temperature_range);
	p->repetitions = field_integer(f, "repetitions", DFNS_REPETITIONS, 1,
				       MAX_REPETITIONS);
	p->isi_s = field_number(f, "isi", DFNS_ISI_S, isi_range);
	p->isi_jitter_s = field_number(f, "isi_jitter", DFNS_ISI_JITTER_S,
				       isi_range);

	bool wrong_side = cooling ? p->cutoff_c >= p->baseline_c :
				    p->cutoff_c <= p->baseline_c;
	if (wrong_side) {
		char msg[192];
		snprintf(msg, sizeof(msg),
			 "%s: cutoff = %g °C must be %s the baseline %g °C "
			 "for %s (a %s test)",
			 f->fn, p->cutoff_c, cooling ? "below" : "above",
			 p->baseline_c, qst_param_name(p->test),
			 cooling ? "cooling" : "heating");
		luaL_error(f->L, "%s", msg);
	}
}

static int api_limits(lua_State *L)
{
	const char *fn = "qst.limits";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, limits_keys, false);
	struct qst_limits_params p;
	memset(&p, 0, sizeof(p));
	limits_read(&f, &p);
	require_device(L, e, fn, "thermal");
	require_device(L, e, fn, "response");
	if (!e->host->limits)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->limits(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

static void tsl_read(const struct fields *f, struct qst_tsl_params *p)
{
	p->baseline_c = field_number(f, "baseline", DFNS_BASELINE_C,
				     temperature_range);
	p->rate_c_s = field_number(f, "rate", DFNS_RATE_C_S, rate_range);
	p->lower_cutoff_c = field_number(f, "lower_cutoff", DFNS_CUTOFF_COLD_C,
					 temperature_range);
	p->upper_cutoff_c = field_number(f, "upper_cutoff", DFNS_CUTOFF_HOT_C,
					 temperature_range);
	/* §2.2: 3 warm and 3 cold reversals. */
	p->pairs = field_integer(f, "pairs", DFNS_REPETITIONS, 1,
				 MAX_REPETITIONS);
	p->return_rate_c_s = field_number(f, "return_rate",
					  DFNS_RETURN_DETECTION_C_S,
					  rate_range);
	p->isi_s = field_number(f, "isi", DFNS_ISI_S, isi_range);

	if (!(p->lower_cutoff_c < p->baseline_c &&
	      p->baseline_c < p->upper_cutoff_c)) {
		char msg[192];
		snprintf(msg, sizeof(msg),
			 "%s: need lower_cutoff < baseline < upper_cutoff, "
			 "got %g, %g, %g °C",
			 f->fn, p->lower_cutoff_c, p->baseline_c,
			 p->upper_cutoff_c);
		luaL_error(f->L, "%s", msg);
	}
}

static int api_tsl(lua_State *L)
{
	const char *fn = "qst.tsl";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, tsl_keys, true);
	struct qst_tsl_params p;
	memset(&p, 0, sizeof(p));
	tsl_read(&f, &p);
	require_device(L, e, fn, "thermal");
	require_device(L, e, fn, "response");
	if (!e->host->tsl)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->tsl(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

/* ------------------------------------ adaptive thermal methods (issue 6) */

static void range_error(const struct fields *f, const char *what)
{
	luaL_error(f->L, "%s: %s", f->fn, what);
}

/* The presentation settings shared by qst.levels{} and qst.staircase{}. */
static void yesno_read(const struct fields *f, struct qst_yesno_params *p)
{
	/* Same test, baseline, rates and cut-off rules as qst.limits{}. */
	p->test = limits_test(f);
	bool cooling = p->test == QST_CDT || p->test == QST_CPT;
	bool pain = p->test == QST_CPT || p->test == QST_HPT;
	p->direction = cooling ? -1 : +1;
	p->baseline_c = field_number(f, "baseline", DFNS_BASELINE_C,
				     temperature_range);
	p->rate_c_s = field_number(f, "rate", DFNS_RATE_C_S, rate_range);
	p->return_rate_c_s = field_number(
		f, "return_rate",
		pain ? DFNS_RETURN_PAIN_C_S : DFNS_RETURN_DETECTION_C_S,
		rate_range);
	p->cutoff_c = field_number(f, "cutoff",
				   cooling ? DFNS_CUTOFF_COLD_C :
					     DFNS_CUTOFF_HOT_C,
				   temperature_range);
	p->hold_s = field_number(f, "hold", YESNO_HOLD_S,
				 (struct range){ 0.0, MAX_HOLD_S, false, "s" });
	p->window_s = field_number(f, "window", YESNO_WINDOW_S,
				   (struct range){ 0.0, MAX_WINDOW_S, true, "s" });
	p->isi_s = field_number(f, "isi", DFNS_ISI_S, isi_range);
	p->isi_jitter_s = field_number(f, "isi_jitter", DFNS_ISI_JITTER_S,
				       isi_range);
	p->catch_p = field_number(f, "catch", 0.0,
				  (struct range){ 0.0, MAX_CATCH_P, false,
						  "(proportion)" });
	p->max_trials = field_integer(f, "max_trials", YESNO_MAX_TRIALS, 1,
				      MAX_YESNO_TRIALS);
	if (cooling ? p->cutoff_c >= p->baseline_c : p->cutoff_c <= p->baseline_c)
		range_error(f, cooling ? "cutoff must be below the baseline for "
					 "a cooling test" :
					 "cutoff must be above the baseline for "
					 "a heating test");
}

/* A level strictly past the baseline and not past the cut-off. */
static double field_level_c(const struct fields *f, const char *key,
			    double def, const struct qst_yesno_params *p)
{
	double v = field_number(f, key, def, temperature_range);
	double from = p->direction * (v - p->baseline_c);
	double to = p->direction * (p->cutoff_c - v);
	if (!(from > 0.0) || to < 0.0) {
		char msg[192];
		snprintf(msg, sizeof(msg),
			 "%s = %g °C must lie %s the baseline %g °C and not "
			 "beyond the cutoff %g °C",
			 key, v, p->direction > 0 ? "above" : "below",
			 p->baseline_c, p->cutoff_c);
		range_error(f, msg);
	}
	return v;
}

static const struct range step_range = { 0.0, 20.0, true, "°C" };

static void levels_read(const struct fields *f, struct qst_levels_params *p)
{
	yesno_read(f, &p->yn);
	p->initial_step_c = field_number(f, "step", LEVELS_INITIAL_STEP_C,
					 step_range);
	p->min_step_c = field_number(f, "min_step", LEVELS_MIN_STEP_C,
				     step_range);
	if (p->min_step_c > p->initial_step_c)
		range_error(f, "min_step must not exceed step");
	/* §7.2: the first level is one initial step from the baseline. */
	double start = p->yn.baseline_c + p->yn.direction * p->initial_step_c;
	p->start_c = field_level_c(f, "start", start, &p->yn);
}

static void staircase_read(const struct fields *f,
			   struct qst_staircase_params *p)
{
	yesno_read(f, &p->yn);
	p->n_down = field_integer(f, "down", 1, 1, 3);
	p->step_c = field_number(f, "step", STAIR_STEP_C, step_range);
	p->min_step_c = field_number(f, "min_step", p->step_c, step_range);
	if (p->min_step_c > p->step_c)
		range_error(f, "min_step must not exceed step (equal = fixed "
			       "steps)");
	p->reversals = field_integer(f, "reversals", STAIR_REVERSALS, 1,
				     QST_STAIRCASE_MAX_REVERSALS);
	int last = STAIR_LAST_K < p->reversals ? STAIR_LAST_K : p->reversals;
	p->last_k = field_integer(f, "last", last, 1, p->reversals);
	p->floor_c = field_number(f, "floor", p->yn.baseline_c,
				  temperature_range);
	double start = p->yn.baseline_c + p->yn.direction * 4.0 * p->step_c;
	p->start_c = field_level_c(f, "start", start, &p->yn);
	double floor_in = p->yn.direction * (p->start_c - p->floor_c);
	double floor_base = p->yn.direction * (p->floor_c - p->yn.baseline_c);
	if (floor_in < 0.0 || floor_base < 0.0)
		range_error(f, "floor must lie between the baseline and start");
}

static void calibrate_read(const struct fields *f,
			   struct qst_calibrate_params *p)
{
	p->baseline_c = field_number(f, "baseline", DFNS_BASELINE_C,
				     temperature_range);
	p->start_c = field_number(f, "start", PAIN5_START_C, temperature_range);
	p->step_c = field_number(f, "step", PAIN5_STEP_C, step_range);
	p->scale = field_choice(f, "scale", QST_SCALE_NRS10, scale_names);
	double top = qst_rating_scale_max(p->scale);
	p->target = field_number(f, "target", PAIN5_TARGET,
				 (struct range){ 0.0, top, false, "(rating)" });
	p->tolerance = field_number(f, "tolerance", 0.0,
				    (struct range){ 0.0, top, false,
						    "(rating)" });
	p->bracket = field_boolean(f, "bracket", true);
	p->pulse_s = field_number(f, "pulse", PAIN5_PULSE_S,
				  (struct range){ 0.0, MAX_HOLD_S, false, "s" });
	p->rate_c_s = field_number(f, "rate", PAIN5_RATE_C_S, rate_range);
	p->return_rate_c_s = field_number(f, "return_rate", PAIN5_RATE_C_S,
					  rate_range);
	p->floor_c = field_number(f, "floor", PAIN5_FLOOR_C, temperature_range);
	p->ceiling_c = field_number(f, "ceiling", DFNS_CUTOFF_HOT_C,
				    temperature_range);
	p->max_pulses = field_integer(f, "max_pulses", PAIN5_MAX_PULSES, 1,
				      MAX_PULSES);
	p->repeats = field_integer(f, "repeats", PAIN5_REPEATS, 1,
				   MAX_REPETITIONS);
	p->rest_s = field_number(f, "rest", PAIN5_REST_S, isi_range);
	p->isi_s = field_number(f, "isi", PAIN5_ISI_S, isi_range);
	if (!(p->baseline_c < p->floor_c && p->floor_c <= p->start_c &&
	      p->start_c <= p->ceiling_c))
		range_error(f, "need baseline < floor <= start <= ceiling");
}

/* A threshold or level as the script sees it: a number, or nil. */
static void push_level(lua_State *L, double v)
{
	if (isfinite(v))
		lua_pushnumber(L, v);
	else
		lua_pushnil(L);
}

/* qst.levels and qst.staircase: same devices, same answer (threshold or
 * nil, false alarms); only their parameters differ. */
static int run_yesno(lua_State *L, const char *fn, bool levels)
{
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn,
				      levels ? levels_keys : staircase_keys, false);
	union {
		struct qst_levels_params levels;
		struct qst_staircase_params staircase;
	} p;
	memset(&p, 0, sizeof(p));
	if (levels)
		levels_read(&f, &p.levels);
	else
		staircase_read(&f, &p.staircase);
	require_device(L, e, fn, "thermal");
	require_device(L, e, fn, "response");
	if (levels ? !e->host->levels : !e->host->staircase)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	double threshold = NAN;
	int false_alarms = 0;
	int ret = levels ? e->host->levels(e->user, &p.levels, &threshold,
					   &false_alarms, err, sizeof(err)) :
			   e->host->staircase(e->user, &p.staircase, &threshold,
					      &false_alarms, err, sizeof(err));
	host_result(L, e, fn, ret, err);
	push_level(L, threshold);
	lua_pushinteger(L, false_alarms);
	return 2;
}

static int api_levels(lua_State *L)
{
	return run_yesno(L, "qst.levels", true);
}

static int api_staircase(lua_State *L)
{
	return run_yesno(L, "qst.staircase", false);
}

static int api_calibrate(lua_State *L)
{
	const char *fn = "qst.calibrate";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, calibrate_keys, true);
	struct qst_calibrate_params p;
	memset(&p, 0, sizeof(p));
	calibrate_read(&f, &p);
	require_device(L, e, fn, "thermal");
	if (!e->host->calibrate)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	double result = NAN;
	host_result(L, e, fn,
		    e->host->calibrate(e->user, &p, &result, err, sizeof(err)),
		    err);
	push_level(L, result);
	return 1;
}

/* --------------------------------------------- mechanical test methods */

/* A level of a factor-2 set: first * 2^i for i < levels (§1.4). */
static double field_level(const struct fields *f, const char *key,
			  double def, double first, int levels,
			  const char *set)
{
	double last = ldexp(first, levels - 1);
	double v = field_number(f, key, def,
				(struct range){ first, last, false, "mN" });
	for (int i = 0; i < levels; i++)
		if (v == ldexp(first, i))
			return v;
	char msg[192];
	snprintf(msg, sizeof(msg),
		 "%s: %s = %g mN is not a level of the %s set (%g, %g, %g, "
		 "... %g mN in factor-2 steps)",
		 f->fn, key, v, set, first, 2 * first, 4 * first, last);
	luaL_error(f->L, "%s", msg);
	return def;
}

static void series_read(const struct fields *f, struct qst_series_params *p)
{
	bool mdt = p->test == QST_MDT;
	p->start_mn = field_level(f, "start", DFNS_SERIES_START_MN,
				  mdt ? VONFREY_MIN_MN : PINPRICK_MIN_MN,
				  mdt ? QST_VONFREY_LEVELS :
					QST_PINPRICK_LEVELS,
				  mdt ? "von Frey" : "pinprick");
	/* §2.4: five descending and five ascending series. */
	p->series_pairs = field_integer(f, "series", DFNS_SERIES_PAIRS, 1,
					MAX_REPETITIONS);
	/* §2.4, §2.5: the rule is [U]; "next" (1024 mN) is common for MPT. */
	p->out_of_range = field_choice(f, "out_of_range", QST_OOR_NEXT_LEVEL,
				       out_of_range_names);
	field_string(f, "site", false, p->site_text, sizeof(p->site_text));
}

static int series_call(lua_State *L, const char *fn, int test)
{
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, series_keys, true);
	struct qst_series_params p;
	memset(&p, 0, sizeof(p));
	p.test = test;
	series_read(&f, &p);
	if (!e->host->series)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->series(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

static int api_mdt(lua_State *L)
{
	return series_call(L, "qst.mdt", QST_MDT);
}

static int api_mpt(lua_State *L)
{
	return series_call(L, "qst.mpt", QST_MPT);
}

static int api_mps_dma(lua_State *L)
{
	const char *fn = "qst.mps_dma";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, srf_keys, true);
	struct qst_srf_params p;
	memset(&p, 0, sizeof(p));
	/* §2.6: 5 runs of 7 pinpricks + 3 light-touch stimuli. */
	p.runs = field_integer(&f, "runs", DFNS_SRF_RUNS, 1, MAX_REPETITIONS);
	field_string(&f, "site", false, p.site_text, sizeof(p.site_text));
	if (!e->host->srf)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->srf(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

static int api_wur(lua_State *L)
{
	const char *fn = "qst.wur";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, wur_keys, true);
	struct qst_wur_params p;
	memset(&p, 0, sizeof(p));
	/* §2.7: 5 × (one 256 mN pinprick, then a train of 10 at 1 Hz). */
	p.repetitions = field_integer(&f, "repetitions", DFNS_WUR_REPETITIONS,
				      1, MAX_REPETITIONS);
	p.force_mn = field_level(&f, "force", DFNS_WUR_FORCE_MN,
				 PINPRICK_MIN_MN, QST_PINPRICK_LEVELS,
				 "pinprick");
	p.train_length = field_integer(&f, "train", DFNS_WUR_TRAIN, 1,
				       MAX_TRAIN);
	p.train_hz = field_number(&f, "rate", DFNS_WUR_RATE_HZ,
				  (struct range){ 0.0, MAX_TRAIN_HZ, true,
						  "Hz" });
	field_string(&f, "site", false, p.site_text, sizeof(p.site_text));
	if (!e->host->wur)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->wur(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

static int api_vdt(lua_State *L)
{
	const char *fn = "qst.vdt";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, vdt_keys, true);
	struct qst_vdt_params p;
	memset(&p, 0, sizeof(p));
	/* §2.8: 3 readings; §7.5: the sham fork catch trial. */
	p.readings = field_integer(&f, "readings", DFNS_VDT_READINGS, 1,
				   MAX_REPETITIONS);
	p.sham = field_boolean(&f, "sham", true);
	field_string(&f, "site", false, p.site_text, sizeof(p.site_text));
	if (!e->host->vdt)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->vdt(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

static int api_ppt(lua_State *L)
{
	const char *fn = "qst.ppt";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, ppt_keys, true);
	struct qst_ppt_params p;
	memset(&p, 0, sizeof(p));
	/* §2.9: 3 trials at ≈50 kPa/s. */
	p.trials = field_integer(&f, "trials", DFNS_PPT_TRIALS, 1,
				 MAX_REPETITIONS);
	p.rate_kpa_s = field_number(&f, "rate", DFNS_PPT_RATE_KPA_S,
				    (struct range){ 0.0, MAX_PPT_RATE_KPA_S,
						    true, "kPa/s" });
	p.isi_s = field_number(&f, "isi", DFNS_PPT_ISI_S, isi_range);
	field_string(&f, "site", false, p.site_text, sizeof(p.site_text));
	require_device(L, e, fn, "pressure");
	if (!e->host->ppt)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->ppt(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

/* One operator-guided question; returns the answer as a number. */
static int api_ask(lua_State *L)
{
	const char *fn = "qst.ask";
	struct qst_engine *e = api_enter(L, fn, true);
	struct fields f = open_fields(L, 1, fn, ask_keys, false);
	char text[256];
	field_string(&f, "text", true, text, sizeof(text));
	int kind = field_choice(&f, "answer", -1, answer_names);
	if (!e->host->ask)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	double v = NAN;
	host_result(L, e, fn,
		    e->host->ask(e->user, text, kind, &v, err, sizeof(err)),
		    err);
	if (!isfinite(v))
		return luaL_error(L, "%s: the station returned no answer", fn);
	/* 0/1 and ratings read as integers in the script; 7.5/8 stays 7.5. */
	if (v == floor(v) && fabs(v) < 1e15)
		lua_pushinteger(L, (lua_Integer)v);
	else
		lua_pushnumber(L, v);
	return 1;
}

/* ------------------------------------------- qst.pulse_train, waveform */

/* rate_after = "each" or a list of 1-based pulse numbers. */
static void field_rate_after(const struct fields *f,
			     struct qst_pulse_train_params *p)
{
	lua_State *L = f->L;
	if (!field_get(f, "rate_after"))
		return; /* no ratings */
	if (lua_type(L, -1) == LUA_TSTRING) {
		if (strcmp(lua_tostring(L, -1), "each") != 0)
			luaL_error(L, "%s: rate_after must be \"each\" or a list "
				      "of pulse numbers such as {1, 10}", f->fn);
		for (int k = 0; k < p->pulses; k++)
			p->rate[k] = true;
		lua_pop(L, 1);
		return;
	}
	if (lua_type(L, -1) != LUA_TTABLE)
		luaL_error(L, "%s: rate_after must be \"each\" or a list of "
			      "pulse numbers, got %s", f->fn, luaL_typename(L, -1));
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		int isint = 0;
		lua_Integer k = lua_tointegerx(L, -1, &isint);
		if (!isint || k < 1 || k > p->pulses)
			luaL_error(L, "%s: rate_after[%I] must be a pulse number "
				      "1..%d", f->fn, (LUA_INTEGER)i, p->pulses);
		p->rate[k - 1] = true;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

static int api_pulse_train(lua_State *L)
{
	const char *fn = "qst.pulse_train";
	struct qst_engine *e = api_enter(L, fn, true);
	require_device(L, e, fn, "thermal");
	struct fields f = open_fields(L, 1, fn, train_keys, false);
	struct qst_pulse_train_params p;
	memset(&p, 0, sizeof(p));
	struct range temp = { PLAUSIBLE_MIN_C, PLAUSIBLE_MAX_C, false, "degC" };
	struct range rate = { 0.0, MAX_RATE_C_S, true, "degC/s" };
	if (!field_get(&f, "peak"))
		return luaL_error(L, "%s: peak (degC) is required", fn);
	lua_pop(L, 1);
	p.peak_c = field_number(&f, "peak", NAN, temp);
	p.baseline_c = field_number(&f, "baseline", TSP_BASELINE_C, temp);
	p.pulses = field_integer(&f, "n", TSP_PULSES, 1, QST_TRAIN_MAX_PULSES);
	p.frequency_hz = field_number(&f, "frequency", TSP_FREQUENCY_HZ,
				      (struct range){ 0.0, MAX_TRAIN_FREQUENCY_HZ,
						      true, "Hz" });
	p.hold_s = field_number(&f, "hold", TSP_HOLD_S,
				(struct range){ 0.0, 60.0, false, "s" });
	p.rise_c_s = field_number(&f, "rise", TSP_RATE_C_S, rate);
	p.fall_c_s = field_number(&f, "fall", TSP_RATE_C_S, rate);
	field_rate_after(&f, &p);
	field_string(&f, "site", false, p.site_text, sizeof(p.site_text));
	/* A pulse that outlasts its period would be cut by the next one. */
	double swing = fabs(p.peak_c - p.baseline_c);
	double pulse_s = swing / p.rise_c_s + p.hold_s + swing / p.fall_c_s;
	if (pulse_s > 1.0 / p.frequency_hz) {
		char msg[160]; /* lua_pushfstring has no precision */
		snprintf(msg, sizeof(msg), "%s: a pulse lasts %.2f s (rise, hold, "
			 "fall), longer than the %.2f s period at %g Hz", fn,
			 pulse_s, 1.0 / p.frequency_hz, p.frequency_hz);
		return luaL_error(L, "%s", msg);
	}
	if (!e->host->pulse_train)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->pulse_train(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

/* Segment i of qst.waveform{}: { to = C, rate = C/s } or { to =, duration = }. */
static void read_segment(lua_State *L, const char *fn, lua_Integer i,
			 struct qst_waveform_params *p)
{
	char name[48];
	snprintf(name, sizeof(name), "%s segment %d", fn, (int)i);
	lua_rawgeti(L, 1, i);
	int t = lua_gettop(L);
	if (lua_type(L, t) != LUA_TTABLE)
		luaL_error(L, "%s: must be a table { to = ..., rate = ... | "
			      "duration = ... }", name);
	struct fields f = open_fields(L, t, name, segment_keys, false);
	bool has_rate = field_get(&f, "rate");
	if (has_rate)
		lua_pop(L, 1);
	bool has_dur = field_get(&f, "duration");
	if (has_dur)
		lua_pop(L, 1);
	if (has_rate == has_dur)
		luaL_error(L, "%s: give either rate or duration", name);
	if (!field_get(&f, "to"))
		luaL_error(L, "%s: to (degC) is required", name);
	lua_pop(L, 1);
	int k = p->n++;
	p->seg[k].to_c = field_number(&f, "to", NAN,
				      (struct range){ PLAUSIBLE_MIN_C,
						      PLAUSIBLE_MAX_C, false,
						      "degC" });
	p->seg[k].rate_c_s = field_number(&f, "rate", NAN,
					  (struct range){ 0.0, MAX_RATE_C_S,
							  true, "degC/s" });
	p->seg[k].duration_s = field_number(&f, "duration", NAN,
					    (struct range){ 0.0, MAX_SEGMENT_S,
							    true, "s" });
	lua_settop(L, t - 1);
}

static int api_waveform(lua_State *L)
{
	const char *fn = "qst.waveform";
	struct qst_engine *e = api_enter(L, fn, true);
	require_device(L, e, fn, "thermal");
	lua_settop(L, 1);
	if (lua_type(L, 1) != LUA_TTABLE)
		return luaL_error(L, "%s expects a list of segments, e.g. %s{ { to "
				     "= 45, rate = 5 }, { to = 45, duration = 2 } "
				     "}; got %s", fn, fn, luaL_typename(L, 1));
	struct qst_waveform_params p;
	memset(&p, 0, sizeof(p));
	p.return_rate_c_s = WAVEFORM_RETURN_C_S;
	lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
	if (n < 1 || n > QST_WAVEFORM_MAX_SEGMENTS)
		return luaL_error(L, "%s: 1 to %d segments, got %d", fn,
				  QST_WAVEFORM_MAX_SEGMENTS, (int)n);
	/* Besides the list only return_rate is allowed. */
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		lua_pop(L, 1);
		bool index = lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 &&
			     lua_tointeger(L, -1) <= n;
		if (!index && !(lua_type(L, -1) == LUA_TSTRING &&
				strcmp(lua_tostring(L, -1), "return_rate") == 0))
			return luaL_error(L, "%s: unexpected key (a list of "
					     "segments and return_rate)", fn);
	}
	for (lua_Integer i = 1; i <= n; i++)
		read_segment(L, fn, i, &p);
	lua_getfield(L, 1, "return_rate");
	if (!lua_isnil(L, -1)) {
		lua_pop(L, 1);
		struct fields f = { L, 1, fn };
		p.return_rate_c_s = field_number(&f, "return_rate",
						 WAVEFORM_RETURN_C_S,
						 (struct range){ 0.0, MAX_RATE_C_S,
								 true, "degC/s" });
	} else {
		lua_pop(L, 1);
	}
	if (!e->host->waveform)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->waveform(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

/* qst.option(name, default): the run's value, or the script's default. */
static int api_option(lua_State *L)
{
	const char *fn = "qst.option";
	struct qst_engine *e = api_enter(L, fn, false);
	const char *key = check_text(L, 1, fn, "name");
	for (const char *c = key; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '_') || c - key >= 31)
			return luaL_error(L, "%s: name '%s' must be up to 31 "
					     "lower-case letters, digits or '_'",
					  fn, key);
	if (lua_type(L, 2) != LUA_TNUMBER)
		return luaL_error(L, "%s: the default must be a number, got %s "
				     "(a script states what it uses when the run "
				     "gives nothing)", fn, luaL_typename(L, 2));
	double v = lua_tonumber(L, 2);
	if (e->host->option && e->host->option(e->user, key, &v) == 1)
		lua_pushnumber(L, v);
	else
		lua_pushvalue(L, 2);
	return 1;
}

/* ---------------------------------------------------------- qst.safety */

static int compare_items(const void *a, const void *b)
{
	return strcmp(a, b); /* key[] is each item's first member */
}

/* The table's entries as numbers; which names exist, and whether a value
 * tightens, the station decides (its supervisor owns the limits). */
static void safety_read(lua_State *L, const char *fn,
			struct qst_safety_params *p)
{
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "%s: unexpected %s key (write name = value)",
				   fn, luaL_typename(L, -2));
		const char *key = lua_tostring(L, -2);
		if (lua_type(L, -1) != LUA_TNUMBER)
			luaL_error(L, "%s: %s must be a number, got %s", fn, key,
				   luaL_typename(L, -1));
		if (p->n >= QST_SAFETY_MAX_KEYS ||
		    strlen(key) >= sizeof(p->item[0].key))
			luaL_error(L, "%s: unknown key '%s'", fn, key);
		snprintf(p->item[p->n].key, sizeof(p->item[0].key), "%s", key);
		p->item[p->n++].value = lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	qsort(p->item, (size_t)p->n, sizeof(p->item[0]), compare_items);
}

static int api_safety(lua_State *L)
{
	const char *fn = "qst.safety";
	struct qst_engine *e = api_enter(L, fn, true);
	lua_settop(L, 1);
	if (lua_type(L, 1) != LUA_TTABLE)
		return luaL_error(L, "%s expects a table of limits, e.g. "
				     "%s{ max_c = 48 }; got %s",
				  fn, fn, luaL_typename(L, 1));
	struct qst_safety_params p;
	memset(&p, 0, sizeof(p));
	safety_read(L, fn, &p);
	if (!e->host->safety)
		host_missing(L, e, fn);
	char err[HOST_ERRLEN] = "";
	host_result(L, e, fn, e->host->safety(e->user, &p, err, sizeof(err)),
		    err);
	return 0;
}

/* ---------------------------------------------------------------- open */

static const luaL_Reg api_functions[] = {
	{ "protocol", api_protocol }, { "section", api_section },
	{ "instruct", api_instruct }, { "log", api_log },
	{ "wait", api_wait },         { "now", api_now },
	{ "not_done", api_not_done }, { "limits", api_limits },
	{ "tsl", api_tsl },           { "mdt", api_mdt },
	{ "mpt", api_mpt },           { "mps_dma", api_mps_dma },
	{ "wur", api_wur },           { "vdt", api_vdt },
	{ "ppt", api_ppt },           { "ask", api_ask },
	{ "safety", api_safety },     { "pulse_train", api_pulse_train },
	{ "waveform", api_waveform }, { "option", api_option },
	{ "safety", api_safety },     { "levels", api_levels },
	{ "staircase", api_staircase }, { "calibrate", api_calibrate },
	{ "sync", api_sync },         { "mark", api_mark },
	{ "condition", api_condition },
	{ NULL, NULL },
};

void qst_engine_open_api(lua_State *L)
{
	luaL_newlib(L, api_functions);
	lua_pushliteral(L, QST_ENGINE_API_VERSION);
	lua_setfield(L, -2, "version");
	lua_setglobal(L, "qst");
	lua_pushcfunction(L, api_log);
	lua_setglobal(L, "print");
}
