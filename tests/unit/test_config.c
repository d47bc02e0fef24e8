/*
 * Station files (station/config): a good file, each class of error, the
 * rule that a file only tightens the built-in limits, the budget against
 * hostile files, the subject-ID rule; and the per-probe pressure and the
 * vibration ceilings they set, which the station enforces before a byte
 * goes out.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qst_config.h"

static struct qst_config conf;
static char err[512];

static int load(const char *text)
{
	err[0] = '\0';
	return qst_config_load_text(text, strlen(text), "t.lua", &conf, err,
				    sizeof(err));
}

static void expect(const char *text, int code, const char *needle)
{
	int rc = load(text);
	if (rc != code || !strstr(err, needle))
		fail_msg("%s\n -> %d '%s', wanted %d with '%s'", text, rc, err,
			 code, needle);
}

static void example_file_loads(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/../stations/simulated.lua",
		 getenv("QST_PROTOCOLDIR"));
	assert_int_equal(qst_config_load_file(path, &conf, err, sizeof(err)), QST_OK);
	assert_string_equal(conf.name, "lab-sim-1");
	assert_int_equal(conf.n_probes, 2);
	assert_string_equal(conf.probes[conf.probe].name, "1cm2");
	assert_string_equal(conf.subject_pattern, "^P[0-9]{3}$");
}

static void good_file_tightens(void **state)
{
	(void)state;
	assert_int_equal(load("return { name = 'bench-2',\n"
			      "  limits = { thermal = { max_c = 48, dose_budget_s = 60,\n"
			      "                         dose_window_s = 1200, readback_timeout_s = 0.2 },\n"
			      "    pressure = { probe = 'small', probes = {\n"
			      "      small = { area_cm2 = 0.5, max_kpa = 1200 },\n"
			      "      big = { area_cm2 = 1.5 } } },\n"
			      "    vibration = { max_vpp = 2 } } }"), QST_OK);
	assert_string_equal(conf.name, "bench-2");
	assert_true(conf.limits.max_c == 48.0);
	assert_true(conf.limits.dose_budget_s == 60.0);
	assert_true(conf.limits.dose_window_s == 1200.0);
	assert_int_equal(conf.limits.readback_timeout_ns, 200 * QST_NS_PER_MS);
	assert_true(conf.limits.max_kpa == 1200.0); /* the mounted probe's */
	assert_true(conf.limits.max_vpp == 2.0);
	assert_true(conf.limits.min_c == 0.0);      /* untouched keys stay */

	struct qst_session_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(qst_config_apply(&conf, true, &cfg, err, sizeof(err)), QST_OK);
	assert_true(cfg.station.probe_area_cm2 == 0.5);
	assert_true(cfg.limits.max_kpa == 1200.0);
	assert_true(cfg.station.max_vpp == 2.0);
	char why[160];
	assert_int_equal(qst_supervisor_check_pressure(&cfg.limits, 1199.0, why, sizeof(why)),
			 QST_OK);
	assert_int_equal(qst_supervisor_check_pressure(&cfg.limits, 1201.0, why, sizeof(why)),
			 QST_ERR_LIMIT);
}

/* qst-domain.md §8.2 interlock 1 (0–50 °C) and the rest of §8: a file may
 * not loosen any of them, in either direction. */
static void looser_than_built_in_is_refused(void **state)
{
	(void)state;
	expect("return { limits = { thermal = { max_c = 50.5 } } }", QST_ERR_LIMIT,
	       "limits.thermal.max_c = 50.5 °C is looser than the built-in limit 50 °C; "
	       "a station file can only tighten");
	expect("return { limits = { thermal = { min_c = -1 } } }", QST_ERR_LIMIT,
	       "limits.thermal.min_c = -1 °C is looser");
	expect("return { limits = { thermal = { dose_budget_s = 121 } } }", QST_ERR_LIMIT,
	       "dose_budget_s = 121 s is looser");
	expect("return { limits = { thermal = { dose_window_s = 300 } } }", QST_ERR_LIMIT,
	       "dose_window_s = 300 s is looser");
	expect("return { limits = { thermal = { max_rate_c_s = 12 } } }", QST_ERR_LIMIT,
	       "max_rate_c_s");
	expect("return { limits = { pressure = { probes = { p = { area_cm2 = 1, max_kpa = 2300 } } } } }",
	       QST_ERR_LIMIT, "limits.pressure.probes.p.max_kpa = 2300 kPa is looser");
	expect("return { limits = { vibration = { max_vpp = 11 } } }", QST_ERR_LIMIT,
	       "limits.vibration.max_vpp = 11 Vpp is looser");
	/* A refused file leaves the built-in station, not half of it. */
	assert_true(conf.limits.max_vpp == 10.0);
}

static void unknown_keys_and_types_are_named(void **state)
{
	(void)state;
	expect("return { limits = { thermal = { max_C = 45 } } }", QST_ERR_DATA,
	       "limits.thermal.max_C: unknown key; did you mean max_c?");
	expect("return { nmae = 'x' }", QST_ERR_DATA, "nmae: unknown key; did you mean name?");
	expect("return { colour = 'x' }", QST_ERR_DATA,
	       "colour: unknown key (allowed: name, lab, limits, roles)");
	expect("return { limits = { thermal = { max_c = '45' } } }", QST_ERR_DATA,
	       "limits.thermal.max_c must be a number (°C), got string");
	expect("return { limits = { thermal = 5 } }", QST_ERR_DATA,
	       "limits.thermal must be a table");
	expect("return { limits = { thermal = { max_c = 0/0 } } }", QST_ERR_DATA,
	       "limits.thermal.max_c is not a finite number");
	expect("return { limits = { thermal = { readback_timeout_s = 0.001 } } }", QST_ERR_DATA,
	       "readback_timeout_s = 0.001 s is out of range (allowed: 0.05 to 0.5 s)");
	expect("return { limits = { thermal = { min_c = 30, neutral_min_c = 25 } } }",
	       QST_ERR_DATA, "must lie within min_c-max_c");
	expect("return { limits = { pressure = { probes = { a = { area_cm2 = 1 }, "
	       "b = { area_cm2 = 2 } } } } }", QST_ERR_DATA, "name the mounted probe");
	expect("return { limits = { pressure = { probe = 'c', probes = { a = { area_cm2 = 1 } } } } }",
	       QST_ERR_DATA, "probe = \"c\" is not among probes");
	expect("return { [1] = 2 }", QST_ERR_DATA, "unexpected number key");
	expect("return 7", QST_ERR_DATA, "must return a table");
	expect("return {", QST_ERR_DATA, "t.lua:1:");
	expect("return { lab = { subject_pattern = '(P' , subject_hint = 'x' } }", QST_ERR_DATA,
	       "not a POSIX extended regular expression");
	expect("return { lab = { subject_pattern = '^P' } }", QST_ERR_DATA,
	       "lab.subject_hint is required");
}

static void roles_are_parsed_and_given_to_the_station(void **state)
{
	(void)state;
	expect("return { roles = { thermal = { driver = 'mark10', port = '/dev/ttyUSB0' } } }",
	       QST_ERR_DATA, "a thermal device is driven by \"sim\", \"none\", \"tcs2\"");
	expect("return { roles = { response = { driver = 'evas', port = '/dev/ttyUSB0' } } }",
	       QST_ERR_DATA, "\"xid\", \"hidpedal\"");
	expect("return { roles = { thermal = { driver = 'tcs2' } } }", QST_ERR_DATA,
	       "needs either port");
	expect("return { roles = { response = { driver = 'xid', usb = '0403' } } }", QST_ERR_DATA,
	       "roles.response.usb must be");
	expect("return { roles = { thermal = { driver = 'sim', port = '/dev/ttyACM0' } } }",
	       QST_ERR_DATA, "takes no port");
	expect("return { roles = { sync = { driver = 'none', baud = 9600 } } }",
	       QST_ERR_DATA, "takes no port, usb or baud");
	expect("return { roles = { pressure = { driver = 'mark10', port = '/dev/ttyUSB0', baud = 1 } } }",
	       QST_ERR_DATA, "baud = 1 baud is out of range");
	expect("return { roles = { smell = { driver = 'sim' } } }", QST_ERR_DATA,
	       "roles.smell: unknown key");
	assert_int_equal(load("return { roles = { thermal = { driver = 'tcs2', port = '/dev/ttyACM0' },"
			      " response = { driver = 'xid', usb = '0403:6001:A1B2' },"
			      " pressure = { driver = 'mark10', port = '/dev/ttyUSB1', baud = 9600 },"
			      " sync = { driver = 'none' } } }"),
			 QST_OK);
	assert_string_equal(conf.roles[QST_ROLE_THERMAL].port, "/dev/ttyACM0");
	assert_string_equal(conf.roles[QST_ROLE_RESPONSE].usb, "0403:6001:A1B2");
	assert_int_equal(conf.roles[QST_ROLE_PRESSURE].baud, 9600);
	struct qst_session_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	/* qst check's dry run keeps the simulated station ... */
	assert_int_equal(qst_config_apply(&conf, false, &cfg, err, sizeof(err)), QST_OK);
	assert_false(qst_station_config_is_real(&cfg.station));
	/* ... qst run gets the real one. */
	assert_int_equal(qst_config_apply(&conf, true, &cfg, err, sizeof(err)), QST_OK);
	assert_true(qst_station_config_is_real(&cfg.station));
	assert_string_equal(cfg.station.roles[QST_ROLE_SYNC].driver, "none");
	assert_int_equal(cfg.station.roles[QST_ROLE_PRESSURE].baud, 9600);
	/* Roles a real station leaves out are no device; a simulated one
	 * keeps its simulators. */
	assert_int_equal(load("return { roles = { thermal = { driver = 'tcs2', "
			      "port = '/dev/ttyACM0' } } }"), QST_OK);
	assert_string_equal(conf.roles[QST_ROLE_RESPONSE].driver, "none");
	assert_string_equal(conf.roles[QST_ROLE_RATING].driver, "none");
	assert_int_equal(load("return { roles = { thermal = { driver = 'sim' } } }"),
			 QST_OK);
	assert_string_equal(conf.roles[QST_ROLE_RESPONSE].driver, "sim");
}

/* A hostile file is stopped by the budget, not by the host running dry. */
static void budget_stops_hostile_files(void **state)
{
	(void)state;
	expect("while true do end", QST_ERR_DATA, "instruction budget");
	expect("local s = 'x' for i = 1, 40 do s = s .. s end return {}", QST_ERR_DATA,
	       "memory limit of 4 MiB");
	expect("local t = {} for i = 1, 1e9 do t[i] = i end return t", QST_ERR_DATA,
	       "t.lua: script stopped");
	/* No library: nothing to read files or run commands with. */
	expect("return { name = io.open('/etc/passwd'):read('a') }", QST_ERR_DATA,
	       "attempt to index a nil value");
	expect("return { name = string.rep('x', 10) }", QST_ERR_DATA,
	       "attempt to index a nil value");
	expect("return { name = ('x'):rep(10) }", QST_ERR_DATA, "attempt to index");
	/* Patterns whose compiled form glibc would grow without bound
	 * (tests/fuzz/crashes/station_config-stacked-plus.lua). */
	expect("return { lab = { subject_hint = 'h', subject_pattern = '3}"
	       "++++++++++++++++++++++++$' } }", QST_ERR_DATA,
	       "at most 4 + and {n,m} repetitions");
	expect("return { lab = { subject_hint = 'h', subject_pattern = "
	       "'^((((((a+)+)+)+)+)+)$' } }", QST_ERR_DATA,
	       "at most 4 + and {n,m} repetitions");
	expect("return { lab = { subject_hint = 'h', subject_pattern = '^a++$' } }",
	       QST_ERR_DATA, "directly after another is undefined in POSIX");
	expect("return { lab = { subject_hint = 'h', subject_pattern = '^a{2}*$' } }",
	       QST_ERR_DATA, "directly after another is undefined in POSIX");
	/* Inside brackets and after a backslash they are plain characters. */
	assert_int_equal(load("return { lab = { subject_hint = 'h', subject_pattern = "
			      "'^P[+*?{]+\\\\+[[:digit:]]{2}$' } }"), QST_OK);
}

static void subject_ids_follow_the_lab(void **state)
{
	(void)state;
	qst_config_default(&conf);
	assert_int_equal(qst_config_check_subject(&conf, "DEMO01", err, sizeof(err)), QST_OK);
	assert_int_equal(qst_config_check_subject(&conf, "Smith", err, sizeof(err)), QST_ERR_ARG);
	assert_int_equal(load("return { lab = { subject_pattern = '^P[0-9]{3}$',"
			      " subject_hint = 'P followed by 3 digits' } }"), QST_OK);
	assert_int_equal(qst_config_check_subject(&conf, "P042", err, sizeof(err)), QST_OK);
	assert_int_equal(qst_config_check_subject(&conf, "DEMO01", err, sizeof(err)), QST_ERR_ARG);
	assert_string_equal(err, "'DEMO01' does not follow this lab's subject IDs: "
				 "P followed by 3 digits");
	/* A long paste is quoted no further than an ID could be long. */
	char longid[200];
	memset(longid, 'A', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(qst_config_check_subject(&conf, longid, err, sizeof(err)), QST_ERR_ARG);
	assert_null(strstr(err, longid + 150));
	/* Even a permissive lab pattern keeps the plain characters. */
	assert_int_equal(load("return { lab = { subject_pattern = '.*', subject_hint = 'any' } }"),
			 QST_OK);
	assert_int_equal(qst_config_check_subject(&conf, "a b;1", err, sizeof(err)), QST_ERR_ARG);
}

static struct qst_station *open_station(double max_vpp, FILE *wire,
					struct qst_wirelog **log)
{
	struct qst_station_config sc;
	memset(&sc, 0, sizeof(sc));
	sc.clock_mode = QST_CLOCK_VIRTUAL;
	sc.seed = 7;
	sc.max_vpp = max_vpp;
	assert_int_equal(qst_participant_profile_builtin("healthy", &sc.participant), QST_OK);
	assert_int_equal(qst_wirelog_new(wire, false, log), QST_OK);
	sc.wirelog = *log;
	struct qst_station *st = NULL;
	char e[256];
	assert_int_equal(qst_station_open_simulated(&sc, &st, e, sizeof(e)), QST_OK);
	return st;
}

static bool wire_has(FILE *wire, const char *needle)
{
	fflush(wire);
	long n = ftell(wire);
	char *buf = calloc(1, (size_t)n + 1);
	rewind(wire);
	size_t got = fread(buf, 1, (size_t)n, wire);
	buf[got] = '\0';
	fseek(wire, 0, SEEK_END);
	bool has = strstr(buf, needle) != NULL;
	free(buf);
	return has;
}

/* A drive above the configured ceiling never reaches the generator. */
static void vibration_ceiling_refused_before_the_wire(void **state)
{
	(void)state;
	FILE *wire = tmpfile();
	assert_non_null(wire);
	struct qst_wirelog *log = NULL;
	struct qst_station *st = open_station(2.0, wire, &log);
	assert_int_equal(qst_station_vibration(st, 125.0, 2.5, true), QST_ERR_LIMIT);
	assert_int_equal(qst_station_vibration(st, 125.0, NAN, true), QST_ERR_LIMIT);
	assert_false(wire_has(wire, "APPL"));
	assert_int_equal(qst_station_vibration(st, 125.0, 1.5, true), QST_OK);
	assert_true(wire_has(wire, "APPL"));
	/* qst.safety{} lowers it; it never goes back up. */
	qst_station_tighten_vibration(st, 1.0);
	qst_station_tighten_vibration(st, 5.0);
	assert_int_equal(qst_station_vibration(st, 125.0, 1.5, true), QST_ERR_LIMIT);
	assert_int_equal(qst_station_vibration(st, 125.0, 0.0, false), QST_OK);
	qst_station_close(st);
	qst_wirelog_free(log);
	fclose(wire);
}

static void vibration_default_is_the_driver_range(void **state)
{
	(void)state;
	FILE *wire = tmpfile();
	struct qst_wirelog *log = NULL;
	struct qst_station *st = open_station(0.0, wire, &log);
	assert_int_equal(qst_station_vibration(st, 125.0, 10.5, true), QST_ERR_LIMIT);
	assert_int_equal(qst_station_vibration(st, 125.0, 9.5, true), QST_OK);
	qst_station_close(st);
	qst_wirelog_free(log);
	fclose(wire);
}

int main(void)
{
	qst_log_set_level(QST_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(example_file_loads),
		cmocka_unit_test(good_file_tightens),
		cmocka_unit_test(looser_than_built_in_is_refused),
		cmocka_unit_test(unknown_keys_and_types_are_named),
		cmocka_unit_test(roles_are_parsed_and_given_to_the_station),
		cmocka_unit_test(budget_stops_hostile_files),
		cmocka_unit_test(subject_ids_follow_the_lab),
		cmocka_unit_test(vibration_ceiling_refused_before_the_wire),
		cmocka_unit_test(vibration_default_is_the_driver_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
