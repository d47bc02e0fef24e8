/*
 * qst run / qst check.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qst_cli.h"
#include "qst_config.h"
#include "qst_console.h"
#include "qst_methods.h"
#include "qst_session.h"

static const char run_help[] =
	"usage: qst run PROTOCOL.lua --subject ID --sex F|M --age N --site SITE\n"
	"               --out FILE.h5 [options]\n"
	"\n"
	"Runs a protocol script on the station and records the session in one\n"
	"HDF5 file (plus FILE.h5.journal, its crash journal), then computes the\n"
	"DFNS parameters and z-scores into the file and prints them.\n"
	"Before touching a device the script is checked by a dry run on the\n"
	"simulated station in virtual time (syntax, safety limits, duration).\n"
	"\n"
	"subject (pseudonym only, never a name):\n"
	"  --subject ID         2-32 letters, digits, '-' or '_', with a digit\n"
	"                       (or as the station file's lab.subject_pattern says)\n"
	"  --sex F|M            --age YEARS (1-120, whole years)\n"
	"  --site SITE          face, hand, foot, trunk or other   --side left|right\n"
	"session:\n"
	"  --out FILE.h5        session file; never overwritten unless --overwrite\n"
	"  --operator ID        who ran the session\n"
	"  --ref CSV            reference table (default: the bundled DFNS table)\n"
	"  --skip-check         do not dry-run the script first\n"
	"  --answers SOURCE     who answers manual steps (von Frey, pinprick,\n"
	"                       tuning fork): 'participant' (the virtual one,\n"
	"                       default on the simulated station), '-' (the\n"
	"                       operator at this terminal; the default with real\n"
	"                       devices) or a file of answers\n"
	"emergency stop (any time; the thermode is aborted, then the session\n"
	"pauses: with --answers - or FILE the operator resumes (the interrupted\n"
	"trial is repeated) or ends it; otherwise it ends, exit status 6):\n"
	"  Ctrl-C (SIGINT; SIGTERM and SIGHUP too)\n"
	"  --stop-key N         response key N (1-8) stops at once (default none)\n"
	"  --stop-hold S        holding any response key S seconds stops\n"
	"                       (default 2, 0 = off)\n"
	"disk full: stimulation stops and the session pauses, writing again every\n"
	"5 s; it carries on when space comes back, else ends after 10 min (exit 7)\n"
	"station (only simulated devices run until real drivers land):\n"
	"  --station simulated  the built-in simulated station (default)\n"
	"  --station FILE       a station file: limits (only stricter than the\n"
	"                       built-in ones), subject-ID rule, probe, devices\n"
	"                       (docs/station-config.md; check it: qst config FILE)\n"
	"  --clock virtual|real virtual time (default) runs as fast as the host can;\n"
	"                       real runs at wall-clock pace (the default, and the\n"
	"                       only choice, for a station of real devices)\n"
	"  --set NAME=NUMBER    for the script's qst.option(NAME, default); repeatable\n"
	"  --realtime           mlockall + SCHED_FIFO for pacing, if permitted\n"
	"                       (docs/timing.md)\n"
	"  --seed N             seed of the simulation (default: from the time)\n"
	"  --participant NAME   virtual participant: healthy (default),\n"
	"                       hyperalgesic, hypoesthetic, mech-hyperalgesic or\n"
	"                       sensitized (TS, CPM, OA: docs/simulation.md)\n"
	"  --participant-set K=V[,K=V]  override participant values, e.g. hpt_c=41\n"
	"  --thermode-area CM2  contact area stored with the data (default 9)\n"
	"  --participant-link SOCKET\n"
	"                       real ports served by simulators (qst simulate\n"
	"                       station, the driver tests): send the operator's\n"
	"                       instructions to their virtual participant\n"
	"  --wire-log FILE      write every byte exchanged with the devices to FILE,\n"
	"                       one line per chunk (docs/simulation.md); mode 0600,\n"
	"                       never overwritten unless --overwrite\n"
	"testing only (simulated station):\n"
	"  --sim-fault [ROLE:]KIND@SECONDS[:ARG]\n"
	"                       a simulated device develops a fault at SECONDS on\n"
	"                       the session clock: stall, disconnect, garbage[:S],\n"
	"                       diverge[:DEGC]; ROLE thermal (default), response or\n"
	"                       pressure; repeatable, one per device\n"
	"                       (docs/simulation.md). Implies nothing about real\n"
	"                       hardware; the pre-run check runs without it.\n";

static const char check_help[] =
	"usage: qst check PROTOCOL.lua [--station FILE] [--seed N]\n"
	"                 [--participant NAME] [--participant-set K=V,...]\n"
	"                 [--set NAME=NUMBER ...]\n"
	"\n"
	"Dry-runs the script on the simulated station in virtual time, touching\n"
	"no hardware and writing no file, and prints its sections, the trials\n"
	"per test, the expected duration and the stimulus envelope. A script\n"
	"that fails, or asks for a stimulus the safety supervisor refuses, makes\n"
	"the check fail (exit status 3). With --station FILE the station file's\n"
	"limits apply (docs/station-config.md), as they will in qst run.\n";

struct run_options {
	const char *protocol;
	const char *station;       /* station file, NULL for the built-in one */
	const char *subject;       /* checked once the station file is read */
	struct qst_config conf;
	const char *out;
	const char *ref;
	const char *participant;
	const char *participant_set;
	const char *answers;
	int stop_key;
	double stop_hold_s;
	const char *wire_log;
	char participant_link[108];
	struct qst_sim_fault faults[QST_ROLE_COUNT];
	bool overwrite, skip_check, seed_given, clock_given, realtime;
	struct qst_script_option options[QST_SCRIPT_MAX_OPTIONS];
	int n_options;
	enum qst_clock_mode clock;
	uint64_t seed;
	struct qst_session_meta meta;
};

enum {
	OPT_SUBJECT = 256, OPT_SEX, OPT_AGE, OPT_SITE, OPT_SIDE, OPT_OPERATOR,
	OPT_OUT, OPT_OVERWRITE, OPT_SEED, OPT_STATION, OPT_CLOCK,
	OPT_PARTICIPANT, OPT_PARTICIPANT_SET, OPT_REF, OPT_SKIP_CHECK,
	OPT_AREA, OPT_ANSWERS, OPT_STOP_KEY, OPT_STOP_HOLD, OPT_WIRE_LOG,
	OPT_PARTICIPANT_LINK,
	OPT_SIM_FAULT, OPT_REALTIME, OPT_SET, OPT_HELP,
};

static const struct option long_options[] = {
	{ "subject", required_argument, NULL, OPT_SUBJECT },
	{ "sex", required_argument, NULL, OPT_SEX },
	{ "age", required_argument, NULL, OPT_AGE },
	{ "site", required_argument, NULL, OPT_SITE },
	{ "side", required_argument, NULL, OPT_SIDE },
	{ "operator", required_argument, NULL, OPT_OPERATOR },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "overwrite", no_argument, NULL, OPT_OVERWRITE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "station", required_argument, NULL, OPT_STATION },
	{ "clock", required_argument, NULL, OPT_CLOCK },
	{ "participant", required_argument, NULL, OPT_PARTICIPANT },
	{ "participant-set", required_argument, NULL, OPT_PARTICIPANT_SET },
	{ "ref", required_argument, NULL, OPT_REF },
	{ "skip-check", no_argument, NULL, OPT_SKIP_CHECK },
	{ "thermode-area", required_argument, NULL, OPT_AREA },
	{ "answers", required_argument, NULL, OPT_ANSWERS },
	{ "stop-key", required_argument, NULL, OPT_STOP_KEY },
	{ "stop-hold", required_argument, NULL, OPT_STOP_HOLD },
	{ "wire-log", required_argument, NULL, OPT_WIRE_LOG },
	{ "participant-link", required_argument, NULL, OPT_PARTICIPANT_LINK },
	{ "sim-fault", required_argument, NULL, OPT_SIM_FAULT },
	{ "realtime", no_argument, NULL, OPT_REALTIME },
	{ "set", required_argument, NULL, OPT_SET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static int bad(const char *fmt, const char *value)
{
	char msg[256];
	snprintf(msg, sizeof(msg), fmt, value);
	qst_cli_error("%s", msg);
	return QST_EXIT_USAGE;
}

static int take_subject_option(struct run_options *o, int opt, const char *arg)
{
	static const char *const sites[] = { "face", "hand", "foot", "trunk", "other", NULL };
	static const char *const sides[] = { "left", "right", NULL };
	struct qst_session_meta *m = &o->meta;
	long v;
	switch (opt) {
	case OPT_SUBJECT:
		o->subject = arg;
		return 0;
	case OPT_SEX:
		if (strlen(arg) != 1 || !strchr("FfMm", arg[0]))
			return bad("--sex '%s' must be F or M (the reference data's strata)", arg);
		m->sex = (char)toupper((unsigned char)arg[0]);
		return 0;
	case OPT_AGE:
		if (!parse_long(arg, 1, 120, &v))
			return bad("--age '%s' must be whole years between 1 and 120", arg);
		m->age_years = (int)v;
		return 0;
	case OPT_SITE:
		if (!one_of(arg, sites))
			return bad("--site '%s' must be face, hand, foot, trunk or other", arg);
		snprintf(m->site, sizeof(m->site), "%s", arg);
		return 0;
	case OPT_SIDE:
		if (!one_of(arg, sides))
			return bad("--side '%s' must be left or right", arg);
		snprintf(m->side, sizeof(m->side), "%s", arg);
		return 0;
	case OPT_OPERATOR:
		if (strlen(arg) >= sizeof(m->operator_name))
			return bad("--operator '%s' is too long", arg);
		snprintf(m->operator_name, sizeof(m->operator_name), "%s", arg);
		return 0;
	}
	return -1;
}

/* --set NAME=NUMBER for qst.option(); names as the engine accepts them. */
static int take_script_option(struct run_options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;
	if (!eq || n == 0 || n >= sizeof(o->options[0].key) ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return bad("--set '%s' must be NAME=NUMBER, NAME up to 31 "
			   "lower-case letters, digits or '_'", arg);
	double v;
	if (!parse_double(eq + 1, -1e9, 1e9, &v))
		return bad("--set '%s': the value must be a number", arg);
	if (o->n_options >= QST_SCRIPT_MAX_OPTIONS)
		return bad("--set '%s': too many options", arg);
	for (int i = 0; i < o->n_options; i++)
		if (strlen(o->options[i].key) == n &&
		    !strncmp(o->options[i].key, arg, n))
			return bad("--set '%s': given twice", arg);
	struct qst_script_option *opt = &o->options[o->n_options++];
	memcpy(opt->key, arg, n);
	opt->key[n] = '\0';
	opt->value = v;
	opt->read = false;
	return 0;
}

static int take_fault(struct run_options *o, const char *arg)
{
	struct qst_station_config probe = { 0 };
	char err[200];
	if (qst_station_parse_fault(&probe, arg, err, sizeof(err)) < 0)
		return bad("--sim-fault %s", err);
	for (int r = 0; r < QST_ROLE_COUNT; r++)
		if (probe.faults[r].kind != QST_SIM_FAULT_NONE)
			o->faults[r] = probe.faults[r];
	return 0;
}

static int take_station_option(struct run_options *o, int opt, const char *arg)
{
	long long seed;
	char *end;
	switch (opt) {
	case OPT_SEED:
		errno = 0;
		seed = strtoll(arg, &end, 10);
		if (errno || end == arg || *end || seed < 0)
			return bad("--seed '%s' must be a non-negative integer", arg);
		o->seed = (uint64_t)seed;
		o->seed_given = true;
		return 0;
	case OPT_STATION:
		o->station = strcmp(arg, "simulated") != 0 ? arg : NULL;
		return 0;
	case OPT_CLOCK:
		o->clock_given = true;
		if (!strcmp(arg, "virtual"))
			o->clock = QST_CLOCK_VIRTUAL;
		else if (!strcmp(arg, "real"))
			o->clock = QST_CLOCK_REAL;
		else
			return bad("--clock '%s' must be virtual or real", arg);
		return 0;
	case OPT_PARTICIPANT:
		o->participant = arg;
		return 0;
	case OPT_PARTICIPANT_SET:
		o->participant_set = arg;
		return 0;
	case OPT_AREA:
		if (!parse_double(arg, 0.01, 100.0, &o->meta.thermode_area_cm2))
			return bad("--thermode-area '%s' must be in 0.01-100 cm2", arg);
		return 0;
	case OPT_PARTICIPANT_LINK:
		if (strlen(arg) >= sizeof(o->participant_link))
			return bad("--participant-link %.40s...: path too long", arg);
		snprintf(o->participant_link, sizeof(o->participant_link), "%s", arg);
		return 0;
	case OPT_WIRE_LOG:
		o->wire_log = arg;
		return 0;
	case OPT_SIM_FAULT:
		return take_fault(o, arg);
	}
	return -1;
}

static int take_option(struct run_options *o, int opt, const char *arg)
{
	int ret = take_subject_option(o, opt, arg);
	if (ret >= 0)
		return ret;
	ret = take_station_option(o, opt, arg);
	if (ret >= 0)
		return ret;
	switch (opt) {
	case OPT_OUT:
		o->out = arg;
		return 0;
	case OPT_OVERWRITE:
		o->overwrite = true;
		return 0;
	case OPT_REF:
		o->ref = arg;
		return 0;
	case OPT_SKIP_CHECK:
		o->skip_check = true;
		return 0;
	case OPT_REALTIME:
		o->realtime = true;
		return 0;
	case OPT_SET:
		return take_script_option(o, arg);
	case OPT_ANSWERS:
		o->answers = arg;
		return 0;
	case OPT_STOP_KEY: {
		double key;
		if (!parse_double(arg, 1, 8, &key) || key != floor(key))
			return bad("--stop-key '%s' must be a response key 1-8", arg);
		o->stop_key = (int)key;
		return 0;
	}
	case OPT_STOP_HOLD:
		if (!parse_double(arg, 0, 60, &o->stop_hold_s))
			return bad("--stop-hold '%s' must be 0-60 seconds", arg);
		return 0;
	default:
		return QST_EXIT_USAGE;
	}
}

/* The station file (or the built-in station): -1 to go on, or an exit code. */
static int load_station(struct run_options *o)
{
	char err[512];
	qst_config_default(&o->conf);
	if (!o->station)
		return -1;
	int ret = qst_config_load_file(o->station, &o->conf, err, sizeof(err));
	if (ret < 0) {
		qst_cli_error("station file refused: %s", err);
		return qst_cli_exit_code(ret);
	}
	return -1;
}

/* Parse argv; returns -1 to go on, or an exit code. */
static int parse_options(int argc, char **argv, struct run_options *o,
			 const char *help)
{
	*o = (struct run_options){ .clock = QST_CLOCK_VIRTUAL, .participant = "healthy",
				   .stop_hold_s = 2.0 };
	o->meta.thermode_area_cm2 = 9.0;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(help, stdout);
			return QST_EXIT_OK;
		}
		if (opt == '?') {
			qst_cli_error("unknown or incomplete option '%s' (see --help)",
				      argv[optind - 1]);
			return QST_EXIT_USAGE;
		}
		int ret = take_option(o, opt, optarg);
		if (ret)
			return ret;
	}
	if (optind != argc - 1) {
		qst_cli_error(optind >= argc ? "no protocol script given (see --help)" :
			      "expected one protocol script, got extra arguments");
		return QST_EXIT_USAGE;
	}
	o->protocol = argv[optind];
	if (!o->seed_given)
		o->seed = (uint64_t)time(NULL);
	return load_station(o);
}

static int require_subject(struct run_options *o)
{
	struct qst_session_meta *m = &o->meta;
	char err[300];
	if (o->subject && qst_config_check_subject(&o->conf, o->subject, err,
						   sizeof(err)) < 0) {
		qst_cli_error("--subject %s", err);
		return QST_EXIT_USAGE;
	}
	if (o->subject)
		snprintf(m->subject_id, sizeof(m->subject_id), "%s", o->subject);
	const char *missing = !m->subject_id[0] ? "--subject" : !m->sex ? "--sex" :
			      !m->age_years ? "--age" : !m->site[0] ? "--site" :
			      !o->out ? "--out" : NULL;
	if (missing) {
		qst_cli_error("%s is required (see qst run --help)", missing);
		return QST_EXIT_USAGE;
	}
	return -1;
}

static int build_config(const struct run_options *o, bool for_run,
			struct qst_session_config *cfg, char **text)
{
	size_t len;
	int ret = qst_read_file(o->protocol, text, &len);
	if (ret < 0) {
		qst_cli_error("cannot read protocol %s: %s", o->protocol,
			      qst_strerror(ret));
		return QST_EXIT_FILE;
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->protocol_path = o->protocol;
	cfg->protocol_text = *text;
	cfg->protocol_len = len;
	cfg->meta = o->meta;
	cfg->station.clock_mode = o->clock;
	cfg->station.seed = o->seed;
	memcpy(cfg->options, o->options, sizeof(o->options));
	cfg->n_options = o->n_options;
	memcpy(cfg->station.faults, o->faults, sizeof(o->faults));
	char err[256];
	if (qst_participant_profile_builtin(o->participant,
					    &cfg->station.participant) < 0) {
		char names[160] = "";
		for (const char *const *n = qst_participant_profile_names(); *n; n++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names),
				 "%s%s", names[0] ? ", " : "", *n);
		qst_cli_error("--participant '%s' is not a built-in profile (%s)",
			      o->participant, names);
		return QST_EXIT_USAGE;
	}
	if (o->participant_set &&
	    qst_participant_profile_parse(&cfg->station.participant,
					  o->participant_set, err, sizeof(err)) < 0) {
		qst_cli_error("--participant-set: %s", err);
		return QST_EXIT_USAGE;
	}
	if (qst_config_apply(&o->conf, for_run, cfg, err, sizeof(err)) < 0) {
		qst_cli_error("--station %s: %s", o->station, err);
		return QST_EXIT_PROTOCOL;
	}
	/* Real devices live in real time: their clock unless told otherwise
	 * (and then the station refuses, saying why). */
	if (qst_station_config_is_real(&cfg->station) && !o->clock_given)
		cfg->station.clock_mode = QST_CLOCK_REAL;
	memcpy(cfg->station.participant_link, o->participant_link,
	       sizeof(o->participant_link));
	cfg->script_limits.memory_bytes = QST_SCRIPT_DEFAULT_MEMORY;
	cfg->script_limits.instructions = QST_SCRIPT_DEFAULT_INSTRUCTIONS;
	return -1;
}

/* /metadata station: "simulated" or the station file (hdf5-schema.md). */
static void fill_station_meta(struct qst_session_config *cfg,
			      const char *station_file)
{
	struct qst_session_meta *m = &cfg->meta;
	const struct qst_participant_profile *p = &cfg->station.participant;
	snprintf(m->software_version, sizeof(m->software_version), "%s", QST_VERSION);
	snprintf(m->station, sizeof(m->station), "%s",
		 station_file ? station_file : "simulated");
	snprintf(m->clock_source, sizeof(m->clock_source), "%s",
		 cfg->station.clock_mode == QST_CLOCK_VIRTUAL ? "virtual" :
		 "CLOCK_MONOTONIC");
	m->seed = cfg->station.seed;
	snprintf(m->participant_profile, sizeof(m->participant_profile), "%s", p->name);
	int n = qst_participant_profile_field_count();
	int cap = (int)(sizeof(m->sim_truth) / sizeof(m->sim_truth[0]));
	m->n_sim_truth = n < cap ? n : cap;
	for (int i = 0; i < m->n_sim_truth; i++) {
		const char *key = qst_participant_profile_field(p, i, &m->sim_truth[i].value);
		snprintf(m->sim_truth[i].key, sizeof(m->sim_truth[i].key), "%s", key);
	}
}


static void print_duration(FILE *f, const char *label, int64_t ns)
{
	long s = (long)llround(qst_ns_to_s(ns));
	fprintf(f, "%s%ld min %02ld s", label, s / 60, s % 60);
}

static void print_steps(FILE *f, const struct qst_session_summary *sum)
{
	fprintf(f, "steps:      start  length trials\n");
	for (int i = 0; i < sum->n_steps; i++) {
		const struct qst_step_summary *st = &sum->steps[i];
		bool last = i + 1 == sum->n_steps;
		int64_t end = last ? sum->duration_ns : st[1].start_ns;
		int trials = (last ? sum->trials : st[1].trials_before) -
			     st->trials_before;
		long at = (long)llround(qst_ns_to_s(st->start_ns));
		long len = (long)llround(qst_ns_to_s(end - st->start_ns));
		fprintf(f, "  %3ld:%02ld  %3ld:%02ld  %3d  %s\n", at / 60, at % 60,
			len / 60, len % 60, trials, st->title);
	}
	if (sum->sections > sum->n_steps)
		fprintf(f, "  ... %d more sections\n", sum->sections - sum->n_steps);
}

/* The limits in force, when a station file or qst.safety{} made any of
 * them stricter than the built-in ones. */
static void print_limits(FILE *f, const struct qst_thermal_limits *lim)
{
	struct qst_thermal_limits def;
	qst_thermal_limits_default(&def);
	bool tight = false;
	for (const struct qst_limit_key *k = qst_limit_keys(); k->name; k++)
		tight = tight || qst_limit_get(lim, k) != qst_limit_get(&def, k);
	if (!tight)
		return;
	fprintf(f, "limits:    %.1f to %.1f °C, rate <= %.1f °C/s, %.0f s above "
		"%.0f °C per %.0f min, algometer <= %.0f kPa, vibration <= %.2f Vpp "
		"(stricter than built-in:", lim->min_c, lim->max_c, lim->max_rate_c_s,
		lim->dose_budget_s, lim->dose_threshold_c, lim->dose_window_s / 60.0,
		lim->max_kpa, lim->max_vpp);
	for (const struct qst_limit_key *k = qst_limit_keys(); k->name; k++)
		if (qst_limit_get(lim, k) != qst_limit_get(&def, k))
			fprintf(f, " %s", k->name);
	fprintf(f, ")\n");
}

static void print_check(FILE *f, const struct qst_session_summary *sum,
			const struct qst_thermal_limits *lim)
{
	fprintf(f, "protocol:  %s %s\n", sum->protocol_name, sum->protocol_version);
	fprintf(f, "sections:  %d\n", sum->sections);
	if (sum->n_steps)
		print_steps(f, sum);
	fprintf(f, "trials:    %d", sum->trials);
	const char *sep = " (";
	for (int p = 0; p < QST_PARAM_COUNT; p++)
		if (sum->tests[p]) {
			fprintf(f, "%s%s %d", sep, qst_param_name(p), sum->tests[p]);
			sep = ", ";
		}
	fprintf(f, "%s\n", sum->trials ? ")" : "");
	print_duration(f, "duration:  ", sum->duration_ns);
	fprintf(f, " (virtual participant, 3 s per manual step; a real "
		   "session takes longer where the operator does)\n");
	if (isfinite(sum->min_commanded_c))
		fprintf(f, "envelope:  %.1f to %.1f °C, fastest rate %.1f °C/s\n",
			sum->min_commanded_c, sum->max_commanded_c, sum->max_rate_c_s);
	if (isfinite(sum->min_force_mn))
		fprintf(f, "           %g to %g mN applied by hand in the dry run\n",
			sum->min_force_mn, sum->max_force_mn);
	if (sum->max_kpa > 0)
		fprintf(f, "           algometer up to %.0f kPa with this participant; "
			"PPT cut-off %.0f kPa, station ceiling %.0f kPa\n",
			sum->max_kpa, QST_PPT_CEILING_KPA, lim->max_kpa);
	print_limits(f, lim);
	fprintf(f, "cut-offs:  %d   refusals: %d\n", sum->cutoffs, sum->refusals);
}

/* One run on the simulated station in virtual time, nothing recorded. */
static int simulate(const struct qst_session_config *base,
		    const struct qst_participant_profile *who,
		    struct qst_session_summary *sum)
{
	struct qst_session_config cfg = *base;
	cfg.out_path = NULL;
	cfg.console = NULL;
	cfg.operator_console = NULL; /* the dry run's answers come from the participant */
	cfg.stop_request = NULL;
	cfg.station.clock_mode = QST_CLOCK_VIRTUAL;
	if (who)
		cfg.station.participant = *who;
	/* The check is of the script: healthy devices, nothing logged. */
	memset(cfg.station.faults, 0, sizeof(cfg.station.faults));
	memset(cfg.station.roles, 0, sizeof(cfg.station.roles));
	cfg.station.wirelog = NULL;
	return qst_session_run(&cfg, sum);
}

/*
 * The dry run: once with the session's participant (duration, trials), and
 * once with one who never responds, so every ramp runs to its cut-off and
 * the algometer to its ceiling — the protocol's worst case, which the
 * supervisor's rules must hold for (issue: qst check rejects a protocol
 * whose worst case breaks a rule). `worst` may be NULL.
 */
static int dry_run(const struct qst_session_config *base,
		   struct qst_session_summary *sum,
		   struct qst_session_summary *worst)
{
	struct qst_session_summary scratch;
	struct qst_participant_profile none;
	int err = simulate(base, NULL, sum);
	if (err < 0)
		return err;
	if (!worst)
		worst = &scratch;
	err = qst_participant_profile_builtin("unresponsive", &none);
	/* Its out-of-range series and cut-offs are expected: not news. */
	enum qst_log_level level = qst_log_get_level();
	if (level > QST_LOG_ERR)
		qst_log_set_level(QST_LOG_ERR);
	if (err == QST_OK)
		err = simulate(base, &none, worst);
	qst_log_set_level(level);
	if (err < 0) {
		static const char lead[] = "in the worst case (no responses, "
					   "every ramp to its cut-off): ";
		snprintf(sum->error, sizeof(sum->error), "%s%.*s", lead,
			 (int)(sizeof(sum->error) - sizeof(lead)), worst->error);
		sum->result = err;
	}
	return err;
}

static void print_worst_case(FILE *f, const struct qst_session_summary *w,
			     const struct qst_thermal_limits *lim)
{
	fprintf(f, "worst case (no responses: every ramp to its cut-off):\n");
	print_duration(f, "           ", w->duration_ns);
	if (isfinite(w->min_commanded_c))
		fprintf(f, ", %.1f to %.1f °C", w->min_commanded_c,
			w->max_commanded_c);
	fprintf(f, ", %.0f s above %.0f °C in %.0f min (budget %.0f s)",
		w->max_dose_s, lim->dose_threshold_c, lim->dose_window_s / 60.0,
		lim->dose_budget_s);
	if (w->max_kpa > 0)
		fprintf(f, ", algometer %.0f kPa", w->max_kpa);
	fprintf(f, "\n");
}

int qst_cli_check(int argc, char **argv)
{
	struct run_options o;
	int ret = parse_options(argc, argv, &o, check_help);
	if (ret >= 0)
		return ret;
	struct qst_session_config cfg;
	char *text = NULL;
	ret = build_config(&o, false, &cfg, &text);
	if (ret >= 0) {
		free(text);
		return ret;
	}
	cfg.meta.sex = 'F';
	cfg.meta.age_years = 30;
	struct qst_session_summary sum, worst;
	worst.result = QST_ERR_ARG; /* not run unless the typical run passes */
	int err = dry_run(&cfg, &sum, &worst);
	if (o.station)
		printf("station:   %s (%s)\n", o.conf.name, o.station);
	print_check(stdout, &sum, &sum.limits);
	if (worst.result != QST_ERR_ARG)
		print_worst_case(stdout, &worst, &worst.limits);
	free(text);
	if (err < 0) {
		qst_cli_error("check failed: %s", sum.error);
		return qst_cli_exit_code(err);
	}
	printf("check passed\n");
	return QST_EXIT_OK;
}

static bool refuse_existing(const struct run_options *o)
{
	struct stat sb;
	if (o->overwrite || stat(o->out, &sb) != 0)
		return false;
	qst_cli_error("%s exists; refusing to overwrite a session file "
		      "(choose another --out, or add --overwrite)", o->out);
	return true;
}

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Ctrl-C, SIGTERM and SIGHUP become the emergency stop while a session
 * runs. No SA_RESTART: a console read in progress returns at once. */
static void catch_stop_signals(bool on, struct sigaction old[3])
{
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++) {
		if (on)
			sigaction(sigs[i], &sa, &old[i]);
		else
			sigaction(sigs[i], &old[i], NULL);
	}
}

/* --wire-log: -1 to go on (*log NULL without the option), or an exit code. */
static int open_wire_log(const struct run_options *o, FILE **file,
			 struct qst_wirelog **log)
{
	if (!o->wire_log)
		return -1;
	/* Like the session file: private, created new (O_EXCL also refuses a
	 * symlink planted at the name), replaced only with --overwrite. It
	 * is written as the session runs, so that it survives a crash. */
	int fd = qst_create_private(o->wire_log, o->overwrite, 0);
	if (fd == QST_ERR_EXISTS)
		qst_cli_error("the wire log %s exists; refusing to overwrite it "
			      "(choose another name, or add --overwrite)",
			      o->wire_log);
	if (fd < 0)
		return QST_EXIT_FILE;
	*file = fdopen(fd, "w");
	if (!*file) {
		qst_cli_error("cannot write the wire log %s: %s", o->wire_log,
			      strerror(errno));
		close(fd);
		return QST_EXIT_FILE;
	}
	if (qst_wirelog_new(*file, false, log) < 0) {
		fclose(*file);
		qst_cli_error("out of memory for the wire log");
		return QST_EXIT_ERROR;
	}
	return -1;
}

static void close_wire_log(const struct run_options *o, FILE *file,
			   struct qst_wirelog *log)
{
	if (!log)
		return;
	unsigned long lost = qst_wirelog_write_errors(log);
	qst_wirelog_free(log);
	if (fclose(file) != 0 || lost)
		qst_cli_error("the wire log %s is incomplete (%lu lines not written)",
			      o->wire_log, lost);
}

static int run_session(struct qst_session_config *cfg,
		       const struct run_options *o)
{
	struct qst_session_summary sum;
	struct sigaction old[3];
	if (!o->skip_check) {
		if (dry_run(cfg, &sum, NULL) < 0) {
			qst_cli_error("protocol check failed, nothing was run: %s", sum.error);
			return qst_cli_exit_code(sum.result);
		}
		fprintf(stderr, "qst: %s %s checked: %d trials, ", sum.protocol_name,
			sum.protocol_version, sum.trials);
		print_duration(stderr, "about ", sum.duration_ns);
		fprintf(stderr, " of session time\n");
		cfg->expected_duration_ns = sum.duration_ns;
	}
	cfg->out_path = o->out;
	cfg->overwrite = o->overwrite;
	cfg->console = stderr;
	cfg->console_is_tty = isatty(fileno(stderr));
	struct qst_wirelog *wire = NULL;
	FILE *wire_file = NULL;
	int ret = open_wire_log(o, &wire_file, &wire);
	if (ret >= 0)
		return ret;
	cfg->station.wirelog = wire;
	cfg->stop_request = &stop_flag;
	cfg->estop_key = o->stop_key;
	cfg->estop_hold_ns = qst_s_to_ns(o->stop_hold_s);
	cfg->realtime = o->realtime;
	cfg->station.realtime = o->realtime;
	stop_flag = 0;
	catch_stop_signals(true, old);
	int64_t wall0 = qst_monotonic_ns();
	int err = qst_session_run(cfg, &sum);
	close_wire_log(o, wire_file, wire);
	cfg->station.wirelog = NULL;
	double wall = qst_ns_to_s(qst_monotonic_ns() - wall0);
	catch_stop_signals(false, old);
	if (err < 0)
		qst_cli_error("session stopped: %s", sum.error);
	if (sum.recorded) {
		fprintf(stderr, "qst: wrote %s: %d trials, session time %.1f s (%s clock), "
			"wall time %.2f s\n", o->out, sum.trials,
			qst_ns_to_s(sum.duration_ns),
			cfg->station.clock_mode == QST_CLOCK_VIRTUAL ? "virtual" : "real",
			wall);
		if (sum.trials > 0) {
			int aret = qst_cli_analyze_file(o->out, o->ref, stdout);
			if (err == QST_OK && aret != QST_EXIT_OK)
				return aret;
		}
	}
	return qst_cli_exit_code(err);
}

/* On a station of real devices the operator answers manual steps at this
 * terminal unless a file is given: there is no virtual participant. */
static int operator_answers(struct run_options *o)
{
	if (o->answers && !strcmp(o->answers, "participant")) {
		qst_cli_error("--answers participant: a station of real devices "
			      "has no virtual participant; use - or a file");
		return QST_EXIT_USAGE;
	}
	if (!o->answers)
		o->answers = "-";
	return -1;
}

/* The operator console for manual steps, or NULL for the participant. */
static int open_answers(const struct run_options *o, struct qst_console *c,
			FILE **file)
{
	*file = NULL;
	if (!o->answers || !strcmp(o->answers, "participant"))
		return 0;
	FILE *in = stdin;
	if (strcmp(o->answers, "-") != 0) {
		in = fopen(o->answers, "r");
		if (!in) {
			qst_cli_error("cannot read answers from %s: %s", o->answers,
				      strerror(errno));
			return QST_EXIT_FILE;
		}
		*file = in;
	}
	qst_console_init(c, in, stderr);
	c->echo = in != stdin || !isatty(fileno(stdin));
	return 1;
}

int qst_cli_run(int argc, char **argv)
{
	struct run_options o;
	int ret = parse_options(argc, argv, &o, run_help);
	if (ret >= 0)
		return ret;
	if ((ret = require_subject(&o)) >= 0)
		return ret;
	if (refuse_existing(&o))
		return QST_EXIT_FILE;
	struct qst_session_config cfg;
	char *text = NULL;
	ret = build_config(&o, true, &cfg, &text);
	if (ret < 0 && qst_station_config_is_real(&cfg.station))
		ret = operator_answers(&o);
	struct qst_console console;
	FILE *answers = NULL;
	if (ret < 0) {
		int c = open_answers(&o, &console, &answers);
		if (c > 1) {
			ret = c;
		} else {
			fill_station_meta(&cfg, o.station);
			cfg.operator_console = c == 1 ? &console : NULL;
			ret = run_session(&cfg, &o);
		}
	}
	if (answers)
		fclose(answers);
	free(text);
	return ret;
}
