/*
 * Station files (qst_config.h, docs/station-config.md). The file is
 * evaluated by qst_data_eval — no library, the protocol engine's budgets
 * — and its table is read here, key by key: every key must be known,
 * every value of the right type and in range, every limit no looser than
 * the compiled-in one (qst_limit_tighten, the same rule qst.safety{}
 * uses). Errors name the key's path, e.g. "limits.thermal.max_c".
 */
#define LOG_PREFIX "config: "

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "qst_config.h"

#define PATH_LEN 96

/* The table being read, and where it sits in the file. */
struct tab {
	lua_State *L;
	int idx;
	char path[PATH_LEN];   /* "limits.thermal" */
};

struct reader {
	struct qst_config *c;
	bool refused;          /* a value looser than a hard limit */
};

static const char *const top_keys[] = { "name", "lab", "limits", "roles", NULL };
static const char *const lab_keys[] = { "subject_pattern", "subject_hint", NULL };
static const char *const limits_keys[] = { "thermal", "pressure", "vibration", NULL };
static const char *const pressure_keys[] = { "probe", "probes", NULL };
static const char *const probe_keys[] = { "area_cm2", "max_kpa", NULL };
static const char *const role_keys[] = { "driver", "port", "usb", "baud", NULL };

static int refuse_at(lua_State *L, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* luaL_error's %-formats know no %g with widths; format here. */
static int refuse_at(lua_State *L, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lua_pushstring(L, msg);
	return lua_error(L);
}

/* ------------------------------------------------------- key checking */

/* Levenshtein distance, capped: enough to catch max_C or mac_c. */
static int distance(const char *a, const char *b)
{
	size_t n = strlen(b);
	if (strlen(a) > 40 || n > 40)
		return 99;
	int row[41];
	for (size_t j = 0; j <= n; j++)
		row[j] = (int)j;
	for (size_t i = 1; a[i - 1]; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= n; j++) {
			int up = row[j];
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[n];
}

static const char *suggest(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (strcasecmp(key, *keys) == 0 || distance(key, *keys) <= 2)
			return *keys;
	return NULL;
}

static void join(const char *const *keys, char *buf, size_t len)
{
	buf[0] = '\0';
	for (; *keys; keys++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 buf[0] ? ", " : "", *keys);
}

static void unknown_key(const struct tab *t, const char *key,
			const char *const *keys)
{
	char list[256];
	const char *near = suggest(key, keys);
	join(keys, list, sizeof(list));
	if (near)
		refuse_at(t->L, "%s%s%.40s: unknown key; did you mean %s?", t->path,
			  t->path[0] ? "." : "", key, near);
	refuse_at(t->L, "%s%s%.40s: unknown key (allowed: %s)", t->path,
		  t->path[0] ? "." : "", key, list);
}

/* Every key of t must be a string in keys (NULL keys: any name). */
static void check_keys(const struct tab *t, const char *const *keys)
{
	lua_State *L = t->L;
	lua_pushnil(L);
	while (lua_next(L, t->idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			refuse_at(L, "%s: unexpected %s key (write name = value)",
				  t->path[0] ? t->path : "the table",
				  luaL_typename(L, -1));
		const char *key = lua_tostring(L, -1);
		bool known = !keys;
		for (const char *const *k = keys; k && *k; k++)
			known = known || strcmp(*k, key) == 0;
		if (!known)
			unknown_key(t, key, keys);
	}
}

/* Push t[key]; false (nothing pushed) when absent. */
static bool get(const struct tab *t, const char *key)
{
	lua_getfield(t->L, t->idx, key);
	if (lua_isnil(t->L, -1)) {
		lua_pop(t->L, 1);
		return false;
	}
	return true;
}

/* The sub-table t[key] (on the stack top), or false when absent. */
static bool sub(const struct tab *t, const char *key, struct tab *out)
{
	if (!get(t, key))
		return false;
	*out = (struct tab){ t->L, lua_gettop(t->L), "" };
	int n = snprintf(out->path, sizeof(out->path), "%s%s%.40s", t->path,
			 t->path[0] ? "." : "", key);
	if (n < 0 || (size_t)n >= sizeof(out->path))
		refuse_at(t->L, "%s: tables nested too deep", t->path);
	if (!lua_istable(t->L, -1))
		refuse_at(t->L, "%s must be a table { ... }, got %s", out->path,
			  luaL_typename(t->L, -1));
	return true;
}

static void get_string(const struct tab *t, const char *key, char *out,
		       size_t outlen)
{
	if (!get(t, key))
		return;
	size_t len = 0;
	if (lua_type(t->L, -1) != LUA_TSTRING)
		refuse_at(t->L, "%s.%s must be a string, got %s", t->path, key,
			  luaL_typename(t->L, -1));
	const char *s = lua_tolstring(t->L, -1, &len);
	if (len == 0 || len >= outlen || strlen(s) != len)
		refuse_at(t->L, "%s.%s must be 1-%zu bytes without NUL", t->path,
			  key, outlen - 1);
	memcpy(out, s, len + 1);
	lua_pop(t->L, 1);
}

/* A number in [lo, hi], or NAN when absent. */
static double get_number(const struct tab *t, const char *key, double lo,
			 double hi, const char *unit)
{
	if (!get(t, key))
		return NAN;
	if (lua_type(t->L, -1) != LUA_TNUMBER)
		refuse_at(t->L, "%s.%s must be a number (%s), got %s", t->path, key,
			  unit, luaL_typename(t->L, -1));
	double v = lua_tonumber(t->L, -1);
	lua_pop(t->L, 1);
	if (!isfinite(v) || v < lo || v > hi)
		refuse_at(t->L, "%s.%s = %g %s is out of range (allowed: %g to %g %s)",
			  t->path, key, v, unit, lo, hi, unit);
	return v;
}

/* ------------------------------------------------------------ sections */

/* Past a bracket expression ("[^]a-z[:digit:]]"), in which the
 * repetition characters are plain characters. */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char close[] = { p[1], ']', '\0' };
			const char *end = strstr(p + 2, close);
			if (!end)
				return p + strlen(p);
			p = end + 2;
		} else {
			p++;
		}
	}
	return *p ? p + 1 : p;
}

/*
 * The repetition operators of an ERE outside brackets and escapes: how
 * many duplicate what they apply to (+ and {n,m}; glibc copies the
 * subtree for each) and whether one is stacked on another ("a++",
 * "a{2}+", "a*?"), which POSIX leaves undefined and glibc answers by
 * doubling its tree per operator: "3}" and 40 '+' asked for gigabytes
 * (found by fuzz_station_config, tests/fuzz/crashes/).
 */
static int count_copying_repeats(const char *p, bool *stacked)
{
	int copying = 0;
	bool after_repeat = false;
	*stacked = false;
	while (*p) {
		bool repeat = *p == '*' || *p == '+' || *p == '?' || *p == '{';
		if (repeat && after_repeat)
			*stacked = true;
		copying += *p == '+' || *p == '{';
		if (*p == '\\' && p[1])
			p += 2;
		else if (*p == '[')
			p = skip_bracket(p);
		else if (*p == '{' && strchr(p, '}'))
			p = strchr(p, '}') + 1;
		else
			p++;
		after_repeat = repeat;
	}
	return copying;
}

/* The most + and {n,m} a subject pattern may hold: with the counts at
 * most 99 and 2 of them, the compiled pattern stays well under a
 * megabyte however they nest. Real ones need 1 or 2 ("^P[0-9]{3}$"). */
#define PATTERN_MAX_COPYING 4

/* POSIX ERE with a bounded cost: glibc expands + and {n,m} into copies,
 * so a few nested ones could ask for gigabytes. */
static void check_pattern(lua_State *L, const char *pattern)
{
	int counts = 0;
	for (const char *p = pattern; *p; p++)
		counts += *p == '{';
	if (counts > 2)
		refuse_at(L, "lab.subject_pattern: at most 2 {n,m} counts");
	bool stacked;
	if (count_copying_repeats(pattern, &stacked) > PATTERN_MAX_COPYING)
		refuse_at(L, "lab.subject_pattern: at most %d + and {n,m} "
			  "repetitions", PATTERN_MAX_COPYING);
	if (stacked)
		refuse_at(L, "lab.subject_pattern: a repetition (*, +, ?, {n,m}) "
			  "directly after another is undefined in POSIX");
	for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{'))
		for (const char *q = p + 1; *q && *q != '}'; q++)
			if (*q >= '0' && *q <= '9' && q[1] >= '0' && q[1] <= '9' &&
			    q[2] >= '0' && q[2] <= '9')
				refuse_at(L, "lab.subject_pattern: counts {n,m} of at "
					  "most 99");
	regex_t re;
	int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[128];
		regerror(rc, &re, msg, sizeof(msg));
		refuse_at(L, "lab.subject_pattern is not a POSIX extended regular "
			  "expression: %s", msg);
	}
	regfree(&re);
}

static void read_lab(const struct tab *top, struct qst_config *c)
{
	struct tab t;
	if (!sub(top, "lab", &t))
		return;
	check_keys(&t, lab_keys);
	get_string(&t, "subject_pattern", c->subject_pattern,
		   sizeof(c->subject_pattern));
	get_string(&t, "subject_hint", c->subject_hint, sizeof(c->subject_hint));
	if (c->subject_pattern[0])
		check_pattern(t.L, c->subject_pattern);
	if (c->subject_pattern[0] && !c->subject_hint[0])
		refuse_at(t.L, "lab.subject_hint is required with a subject_pattern "
			  "(it says the rule in words, e.g. \"P followed by 3 "
			  "digits\")");
	lua_pop(t.L, 1);
}

/* One limit through the tighten-only rule; limits is where it goes. */
static void tighten(struct reader *r, const struct tab *t,
		    const struct qst_limit_key *k, double v,
		    struct qst_thermal_limits *limits)
{
	char why[200];
	int rc = qst_limit_tighten(limits, k, v, "the built-in limit", why,
				   sizeof(why));
	if (rc == QST_ERR_LIMIT) {
		r->refused = true;
		refuse_at(t->L, "%s.%s; a station file can only tighten the "
			  "built-in limits (qst-domain.md §8)", t->path, why);
	}
	if (rc < 0)
		refuse_at(t->L, "%s.%s", t->path, why);
}

/* Every key of the group present in t, through tighten(). */
static void read_group(struct reader *r, const struct tab *t,
		       const char *group)
{
	const struct qst_limit_key *k;
	const char *names[40];
	int n = 0;
	for (k = qst_limit_keys(); k->name; k++)
		if (strcmp(k->group, group) == 0 && n < 38)
			names[n++] = k->name;
	names[n] = NULL;
	check_keys(t, names);
	for (k = qst_limit_keys(); k->name; k++) {
		if (strcmp(k->group, group) != 0 || !get(t, k->name))
			continue;
		if (lua_type(t->L, -1) != LUA_TNUMBER)
			refuse_at(t->L, "%s.%s must be a number (%s), got %s", t->path,
				  k->name, k->unit, luaL_typename(t->L, -1));
		double v = lua_tonumber(t->L, -1);
		lua_pop(t->L, 1);
		tighten(r, t, k, v, &r->c->limits);
	}
}

static void read_probe(struct reader *r, const struct tab *probes)
{
	struct qst_config *c = r->c;
	lua_State *L = probes->L;
	const char *name = lua_tostring(L, -1); /* a string: check_keys */
	struct tab t;
	if (!sub(probes, name, &t))
		return;
	if (c->n_probes >= QST_CONFIG_MAX_PROBES)
		refuse_at(L, "%s: at most %d probes", probes->path,
			  QST_CONFIG_MAX_PROBES);
	struct qst_probe *p = &c->probes[c->n_probes];
	if (strlen(name) == 0 || strlen(name) >= sizeof(p->name))
		refuse_at(L, "%s: probe names are 1-%zu bytes", probes->path,
			  sizeof(p->name) - 1);
	check_keys(&t, probe_keys);
	snprintf(p->name, sizeof(p->name), "%s", name);
	/* Algometer probes are about 0.5-2 cm² (§2.9); 100 is generous. */
	p->area_cm2 = get_number(&t, "area_cm2", 0.01, 100.0, "cm²");
	if (isnan(p->area_cm2))
		refuse_at(L, "%s.area_cm2 is required", t.path);
	struct qst_thermal_limits scratch;
	qst_thermal_limits_default(&scratch);
	if (get(&t, "max_kpa")) {
		if (lua_type(L, -1) != LUA_TNUMBER)
			refuse_at(L, "%s.max_kpa must be a number (kPa), got %s",
				  t.path, luaL_typename(L, -1));
		double v = lua_tonumber(L, -1);
		lua_pop(L, 1);
		tighten(r, &t, qst_limit_key_find("pressure", "max_kpa"), v,
			&scratch);
	}
	p->max_kpa = scratch.max_kpa;
	c->n_probes++;
	lua_pop(L, 1);
}

static int compare_probes(const void *a, const void *b)
{
	return strcmp(((const struct qst_probe *)a)->name,
		      ((const struct qst_probe *)b)->name);
}

static void read_probes(struct reader *r, const struct tab *pressure)
{
	struct tab t;
	if (!sub(pressure, "probes", &t))
		return;
	r->c->n_probes = 0;
	check_keys(&t, NULL);
	lua_pushnil(t.L);
	while (lua_next(t.L, t.idx)) {
		lua_pop(t.L, 1);
		read_probe(r, &t);
	}
	if (r->c->n_probes == 0)
		refuse_at(t.L, "%s: list at least one probe", t.path);
	/* Table order is the hash's: sort, so listings are stable. */
	qsort(r->c->probes, (size_t)r->c->n_probes, sizeof(r->c->probes[0]),
	      compare_probes);
	lua_pop(t.L, 1);
}

static void read_pressure(struct reader *r, const struct tab *limits)
{
	struct qst_config *c = r->c;
	struct tab t;
	if (!sub(limits, "pressure", &t))
		return;
	check_keys(&t, pressure_keys);
	read_probes(r, &t);
	char mounted[32] = "";
	get_string(&t, "probe", mounted, sizeof(mounted));
	c->probe = -1;
	for (int i = 0; i < c->n_probes; i++)
		if (!mounted[0] ? c->n_probes == 1 : !strcmp(mounted, c->probes[i].name))
			c->probe = i;
	if (c->probe < 0)
		refuse_at(t.L, mounted[0] ? "%s.probe = \"%s\" is not among probes" :
			  "%s.probe: name the mounted probe (several are listed)%s",
			  t.path, mounted);
	lua_pop(t.L, 1);
}

static void read_limits(struct reader *r, const struct tab *top)
{
	struct tab t, g;
	if (!sub(top, "limits", &t))
		return;
	check_keys(&t, limits_keys);
	if (sub(&t, "thermal", &g)) {
		read_group(r, &g, "thermal");
		lua_pop(t.L, 1);
	}
	read_pressure(r, &t);
	if (sub(&t, "vibration", &g)) {
		read_group(r, &g, "vibration");
		lua_pop(t.L, 1);
	}
	char why[200];
	if (qst_limits_consistent(&r->c->limits, why, sizeof(why)) < 0)
		refuse_at(t.L, "limits.thermal: %s", why);
	lua_pop(t.L, 1);
}

static bool hex4(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* "VID:PID" or "VID:PID:serial", four hex digits each. */
static bool valid_usb(const char *s)
{
	size_t n = strlen(s);
	return n >= 9 && hex4(s) && s[4] == ':' && hex4(s + 5) &&
	       (n == 9 || (s[9] == ':' && n > 10));
}

/* "sim", "none", or a registered driver of the role's device class. */
static void check_driver(const struct tab *t, int role,
			 const struct qst_role_config *rc)
{
	if (!strcmp(rc->driver, "sim") || !strcmp(rc->driver, "none"))
		return;
	enum qst_dev_class cls = qst_role_class((enum qst_role)role);
	const struct qst_driver *d = qst_driver_find(rc->driver);
	if (d && d->dev_class == cls)
		return;
	char names[160] = "\"sim\", \"none\"";
	size_t used = strlen(names);
	for (const struct qst_driver *const *p = qst_drivers_list(); *p; p++) {
		if ((*p)->dev_class != cls)
			continue;
		int n = snprintf(names + used, sizeof(names) - used, ", \"%s\"",
				 (*p)->name);
		used = n > 0 && (size_t)n < sizeof(names) - used ? used + (size_t)n : used;
	}
	refuse_at(t->L, "%s.driver = \"%.16s\": a %s device is driven by %s",
		  t->path, rc->driver, qst_role_name((enum qst_role)role), names);
}

static void read_role(const struct tab *roles, int role, struct qst_config *c)
{
	struct tab t;
	const char *name = qst_role_name((enum qst_role)role);
	if (!sub(roles, name, &t))
		return;
	check_keys(&t, role_keys);
	struct qst_role_config *rc = &c->roles[role];
	rc->driver[0] = '\0';
	get_string(&t, "driver", rc->driver, sizeof(rc->driver));
	get_string(&t, "port", rc->port, sizeof(rc->port));
	get_string(&t, "usb", rc->usb, sizeof(rc->usb));
	if (!strcmp(rc->driver, "simulated"))
		snprintf(rc->driver, sizeof(rc->driver), "sim");
	double baud = get_number(&t, "baud", 50, 4000000, "baud");
	rc->baud = isnan(baud) ? 0 : (int)baud;
	check_driver(&t, role, rc);
	bool real = strcmp(rc->driver, "sim") != 0 && strcmp(rc->driver, "none") != 0;
	if (!real && (rc->port[0] || rc->usb[0] || rc->baud))
		refuse_at(t.L, "%s: driver \"%s\" takes no port, usb or baud",
			  t.path, rc->driver);
	if (real && !rc->port[0] == !rc->usb[0])
		refuse_at(t.L, "%s: driver %s needs either port = \"/dev/...\" or "
			  "usb = \"VID:PID[:serial]\"", t.path, rc->driver);
	if (rc->port[0] && strncmp(rc->port, "/dev/", 5) != 0)
		refuse_at(t.L, "%s.port must be a device path /dev/...", t.path);
	if (rc->usb[0] && !valid_usb(rc->usb))
		refuse_at(t.L, "%s.usb must be \"VID:PID\" or \"VID:PID:serial\" "
			  "(4 hex digits each)", t.path);
	lua_pop(t.L, 1);
}

static void read_roles(const struct tab *top, struct qst_config *c)
{
	struct tab t;
	if (!sub(top, "roles", &t))
		return;
	const char *names[QST_ROLE_COUNT + 1];
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		names[r] = qst_role_name((enum qst_role)r);
	names[QST_ROLE_COUNT] = NULL;
	check_keys(&t, names);
	bool listed[QST_ROLE_COUNT], real = false;
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		listed[r] = get(&t, names[r]);
		if (listed[r])
			lua_pop(t.L, 1);
		read_role(&t, r, c);
		real = real || (strcmp(c->roles[r].driver, "sim") != 0 &&
				strcmp(c->roles[r].driver, "none") != 0);
	}
	/* A station of real devices has what it lists: a role it leaves
	 * out is no device, not a simulator that could not join it. */
	for (int r = 0; real && r < QST_ROLE_COUNT; r++)
		if (!listed[r])
			snprintf(c->roles[r].driver, sizeof(c->roles[r].driver),
				 "none");
	lua_pop(t.L, 1);
}

static int read_config(lua_State *L, void *user)
{
	struct reader *r = user;
	struct tab top = { L, 1, "" };
	check_keys(&top, top_keys);
	get_string(&top, "name", r->c->name, sizeof(r->c->name));
	read_lab(&top, r->c);
	read_limits(r, &top);
	read_roles(&top, r->c);
	if (r->c->n_probes > 0)
		r->c->limits.max_kpa = r->c->probes[r->c->probe].max_kpa;
	return 0;
}

/* ----------------------------------------------------------------- API */

void qst_config_default(struct qst_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "simulated");
	qst_thermal_limits_default(&c->limits);
	c->n_probes = 1;
	c->probes[0] = (struct qst_probe){ "1cm2", 1.0, c->limits.max_kpa };
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		snprintf(c->roles[r].driver, sizeof(c->roles[r].driver), "sim");
}

int qst_config_load_text(const char *text, size_t len, const char *chunkname,
			 struct qst_config *c, char *err, size_t errlen)
{
	qst_config_default(c);
	struct reader r = { c, false };
	struct qst_script_limits budget = { QST_CONFIG_MEMORY,
					    QST_CONFIG_INSTRUCTIONS };
	int rc = qst_data_eval(text, len, chunkname, &budget, read_config, &r,
			       err, errlen);
	if (rc == QST_OK)
		return QST_OK;
	qst_config_default(c); /* nothing half-read escapes */
	if (rc == QST_ERR_NOMEM)
		return rc;
	return r.refused ? QST_ERR_LIMIT : QST_ERR_DATA;
}

int qst_config_load_file(const char *path, struct qst_config *c, char *err,
			 size_t errlen)
{
	qst_config_default(c);
	struct stat sb;
	if (stat(path, &sb) == 0 && (size_t)sb.st_size > QST_CONFIG_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %zu KiB; not a station file",
			 path, QST_CONFIG_MAX_BYTES >> 10);
		return QST_ERR_DATA;
	}
	char *text = NULL;
	size_t len = 0;
	int rc = qst_read_file(path, &text, &len);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, qst_strerror(rc));
		return rc;
	}
	const char *base = strrchr(path, '/');
	rc = qst_config_load_text(text, len, base ? base + 1 : path, c, err,
				  errlen);
	free(text);
	return rc;
}

/* The characters and length every subject ID keeps, whatever the lab's
 * pattern: it ends up in file names and HDF5 attributes. */
static bool plain_id(const char *id, bool *digit)
{
	size_t n = strlen(id);
	*digit = false;
	if (n < 2 || n > 32)
		return false;
	for (const char *p = id; *p; p++) {
		bool d = *p >= '0' && *p <= '9';
		bool a = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
		if (!d && !a && *p != '-' && *p != '_')
			return false;
		*digit = *digit || d;
	}
	return true;
}

static bool matches(const char *pattern, const char *id)
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return false; /* checked at load: cannot happen */
	bool ok = regexec(&re, id, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

int qst_config_check_subject(const struct qst_config *c, const char *id,
			     char *err, size_t errlen)
{
	bool digit;
	/* Quote at most the 32 bytes an ID may have: never a long paste. */
	if (!plain_id(id, &digit)) {
		snprintf(err, errlen, "'%.32s' is not a pseudonym: use 2-32 "
			 "letters, digits, '-' or '_' (never a name)", id);
		return QST_ERR_ARG;
	}
	if (c->subject_pattern[0] && !matches(c->subject_pattern, id)) {
		snprintf(err, errlen, "'%s' does not follow this lab's subject "
			 "IDs: %s", id, c->subject_hint);
		return QST_ERR_ARG;
	}
	if (!c->subject_pattern[0] && !digit) {
		snprintf(err, errlen, "'%s' is not a pseudonym: include at least "
			 "one digit (never a name)", id);
		return QST_ERR_ARG;
	}
	return QST_OK;
}

int qst_config_apply(const struct qst_config *c, bool for_run,
		     struct qst_session_config *cfg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	/* qst check's dry run always uses the simulated devices. */
	for (int r = 0; for_run && r < QST_ROLE_COUNT; r++)
		cfg->station.roles[r] = c->roles[r];
	cfg->limits = c->limits;
	cfg->station.probe_area_cm2 = c->probes[c->probe].area_cm2;
	cfg->station.max_vpp = c->limits.max_vpp;
	return QST_OK;
}

/* A Lua string literal that reads back as s, whatever bytes it holds. */
static void print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\%03u", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void print_group(const struct qst_config *c, FILE *out,
			const char *group)
{
	for (const struct qst_limit_key *k = qst_limit_keys(); k->name; k++)
		if (!strcmp(k->group, group))
			fprintf(out, "      %s = %.15g,\n", k->name,
				qst_limit_get(&c->limits, k));
}

static void print_roles(const struct qst_config *c, FILE *out)
{
	fprintf(out, "  roles = {\n");
	for (int r = 0; r < QST_ROLE_COUNT; r++) {
		const struct qst_role_config *rc = &c->roles[r];
		fprintf(out, "    %s = { driver = ", qst_role_name((enum qst_role)r));
		print_string(out, rc->driver);
		if (rc->port[0]) {
			fprintf(out, ", port = ");
			print_string(out, rc->port);
		}
		if (rc->usb[0]) {
			fprintf(out, ", usb = ");
			print_string(out, rc->usb);
		}
		if (rc->baud)
			fprintf(out, ", baud = %d", rc->baud);
		fprintf(out, " },\n");
	}
	fprintf(out, "  },\n");
}

static void print_pressure(const struct qst_config *c, FILE *out)
{
	fprintf(out, "    pressure = {\n      probe = ");
	print_string(out, c->probes[c->probe].name);
	fprintf(out, ",\n      probes = {\n");
	for (int i = 0; i < c->n_probes; i++) {
		fprintf(out, "        [");
		print_string(out, c->probes[i].name);
		fprintf(out, "] = { area_cm2 = %.15g, max_kpa = %.15g },\n",
			c->probes[i].area_cm2, c->probes[i].max_kpa);
	}
	fprintf(out, "      },\n    },\n");
}

void qst_config_print(const struct qst_config *c, FILE *out)
{
	fprintf(out, "return {\n  name = ");
	print_string(out, c->name);
	fprintf(out, ",\n");
	if (c->subject_pattern[0]) {
		fprintf(out, "  lab = { subject_pattern = ");
		print_string(out, c->subject_pattern);
		fprintf(out, ", subject_hint = ");
		print_string(out, c->subject_hint);
		fprintf(out, " },\n");
	}
	fprintf(out, "  limits = {\n    thermal = {\n");
	print_group(c, out, "thermal");
	fprintf(out, "    },\n");
	print_pressure(c, out);
	fprintf(out, "    vibration = {\n");
	print_group(c, out, "vibration");
	fprintf(out, "    },\n  },\n");
	print_roles(c, out);
	fprintf(out, "}\n");
}
