/*
 * qst simulate: serve one simulated device on a pseudo-terminal, on the
 * real clock, so that `qst run --station` or a lab's own client can be
 * tried without the hardware (docs/serial.md, "qst simulate").
 *
 * The simulator does not write to the pty itself. It talks on one end of
 * a socketpair, as it does in-process (qst_transport_pipe_open), and this
 * file relays between the socketpair and the pty master. That is what
 * lets the device run on while no client has the port open, as a real
 * one does: what it says then is discarded here, instead of piling up in
 * the pty for the next client to read as stale lines.
 */
#define _GNU_SOURCE /* ppoll, ptsname_r */
#define LOG_PREFIX "simulate: "

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "qst_cli.h"
#include "qst_core.h"
#include "qst_sim.h"
#include "sim_outq.h"

/* Without a client the pty master reads as hung up, which poll cannot
 * wait on; look for a new client this often instead. */
#define CLIENT_CHECK_MS 50

/* --------------------------------------------------- the simulator table */

struct sim_kind {
	const char *name;
	const char *device; /* what it answers as, for --help */
	int (*create)(int fd, uint64_t seed, int64_t t0_ns, void **sim);
	void (*destroy)(void *sim);
	void (*step)(void *sim, int64_t t_ns);
	int64_t (*next_due)(const void *sim);
	/* NULL when the simulator has no fault injection. */
	int (*set_fault)(void *sim, const struct qst_sim_fault *fault);
};

/*
 * Adapters from the table's uniform signatures to a simulator's
 * qst_NAME_sim_free/_step/_next_due[/_set_fault] (qst_sim.h).
 */
#define SIM_COMMON(name)                                                    \
	static void name##_destroy(void *s) { qst_##name##_sim_free(s); }   \
	static void name##_step(void *s, int64_t t)                         \
	{                                                                   \
		qst_##name##_sim_step(s, t);                                \
	}                                                                   \
	static int64_t name##_next_due(const void *s)                       \
	{                                                                   \
		return qst_##name##_sim_next_due(s);                        \
	}
#define SIM_FAULTS(name)                                                    \
	static int name##_fault(void *s, const struct qst_sim_fault *f)     \
	{                                                                   \
		return qst_##name##_sim_set_fault(s, f);                    \
	}
#define SIM_NOFAULTS(name)
#define SIM_FAULTS_PTR(name) name##_fault
#define SIM_NOFAULTS_PTR(name) NULL
/* A constructor qst_NAME_sim_new(fd, t0_ns, &sim), with no seed. */
#define SIM_PLAIN(name)                                                     \
	static int name##_create(int fd, uint64_t seed, int64_t t0, void **out) \
	{                                                                   \
		(void)seed;                                                 \
		struct qst_##name##_sim *s = NULL;                          \
		int ret = qst_##name##_sim_new(fd, t0, &s);                 \
		*out = s;                                                   \
		return ret;                                                 \
	}
/* A constructor qst_NAME_sim_new(fd, &cfg, t0_ns, &sim) whose
 * struct qst_NAME_sim_config means the defaults where it is zero: the
 * config is zero but for the seed. */
#define SIM_SEEDED(name)                                                    \
	static int name##_create(int fd, uint64_t seed, int64_t t0, void **out) \
	{                                                                   \
		struct qst_##name##_sim_config cfg = { .seed = seed };      \
		struct qst_##name##_sim *s = NULL;                          \
		int ret = qst_##name##_sim_new(fd, &cfg, t0, &s);           \
		*out = s;                                                   \
		return ret;                                                 \
	}
/* A constructor written out below as NAME_create (tcs2's zero lag and
 * noise are meaningful, so its defaults are spelled out). */
#define SIM_OWN(name)

/* With a config: the simulator's defaults, with --seed. */
static int tcs2_create(int fd, uint64_t seed, int64_t t0, void **out)
{
	struct qst_tcs2_sim_config cfg = {
		.initial_c = 32.0, .max_heat_c_s = 70.0, .max_cool_c_s = 40.0,
		.lag_s = 0.05, .noise_sd_c = 0.02, .seed = seed,
	};
	struct qst_tcs2_sim *s = NULL;
	int ret = qst_tcs2_sim_new(fd, &cfg, t0, &s);
	*out = s;
	return ret;
}

static int mark10_create(int fd, uint64_t seed, int64_t t0, void **out)
{
	struct qst_mark10_sim_config cfg = {
		.capacity_n = 500.0, .noise_n = 0.05, .seed = seed,
	};
	struct qst_mark10_sim *s = NULL;
	int ret = qst_mark10_sim_new(fd, &cfg, t0, &s);
	*out = s;
	return ret;
}

/*
 * Nobody moves the slider of a served eVAS, so it is moved for them: up
 * from 0 to 100 and back down in 20 s, over and over, so that a client
 * sees lines arrive (an untouched slider sends none).
 */
static double evas_sweep(void *user, int64_t t_ns)
{
	(void)user;
	double phase = fmod(qst_ns_to_s(t_ns), 20.0) / 10.0; /* 0..2 */
	return 100.0 * (phase < 1.0 ? phase : 2.0 - phase);
}

static int evas_create(int fd, uint64_t seed, int64_t t0, void **out)
{
	(void)seed; /* the sweep has no noise */
	struct qst_evas_sim_config cfg = { .rating = evas_sweep };
	struct qst_evas_sim *s = NULL;
	int ret = qst_evas_sim_new(fd, &cfg, t0, &s);
	*out = s;
	return ret;
}

/*
 * The simulators `qst simulate` serves, one line each:
 * X(name, constructor, faults, description); `name` is what the command
 * line and --help call it. constructor is SIM_PLAIN for
 * qst_NAME_sim_new(fd, t0_ns, &sim), SIM_SEEDED for one taking a config
 * whose zero fields are the defaults, or SIM_OWN with a NAME_create
 * above; faults is SIM_FAULTS when qst_NAME_sim_set_fault exists, else
 * SIM_NOFAULTS.
 */
#define QST_SIMULATORS(X)                                                   \
	X(tcs2, SIM_OWN, SIM_FAULTS, "QST.Lab TCS II thermal stimulator")   \
	X(mark10, SIM_OWN, SIM_FAULTS, "Mark-10 force gauge (algometer)")   \
	X(xid, SIM_PLAIN, SIM_FAULTS, "Cedrus XID response pad")            \
	X(evas, SIM_OWN, SIM_FAULTS,                                        \
	  "QST.Lab eVAS rating slider (swept 0-100-0 every 20 s)")         \
	X(trigger, SIM_PLAIN, SIM_FAULTS,                                   \
	  "TTL trigger box (TriggerBox, MMBT-S)")

#define SIM_ADAPTERS(name, ctor, faults, desc)                              \
	SIM_COMMON(name) ctor(name) faults(name)
QST_SIMULATORS(SIM_ADAPTERS)

#define SIM_ENTRY(name, ctor, faults, desc)                                 \
	{ #name, desc, name##_create, name##_destroy, name##_step,         \
	  name##_next_due, faults##_PTR(name) },
static const struct sim_kind sim_kinds[] = { QST_SIMULATORS(SIM_ENTRY) };

#define N_SIM_KINDS (sizeof(sim_kinds) / sizeof(sim_kinds[0]))

static const struct sim_kind *find_kind(const char *name)
{
	for (size_t i = 0; i < N_SIM_KINDS; i++)
		if (strcmp(sim_kinds[i].name, name) == 0)
			return &sim_kinds[i];
	return NULL;
}

/* ------------------------------------------------------------ arguments */

static const char simulate_help[] =
	"usage: qst simulate DEVICE [--seed N] [--fault KIND@S[:ARG]]\n"
	"\n"
	"Serves a simulated DEVICE on a pseudo-terminal on the real clock and\n"
	"prints the terminal's path as the first line on stdout. Point a\n"
	"station file, `qst run --station` or any serial client at that path\n"
	"(115200 8N1; the line rate of a pty is not enforced). Runs until\n"
	"SIGINT or SIGTERM, then exits 0. A client may close the port and\n"
	"open it again; the device runs on meanwhile and what it says with no\n"
	"client is discarded. Details: docs/serial.md.\n"
	"\n"
	"  --seed N            seed of the simulator's noise (default 1)\n"
	"  --fault KIND@S[:ARG]\n"
	"                      the device develops a fault S seconds after\n"
	"                      start: stall, disconnect (the terminal goes away\n"
	"                      and qst simulate exits 0), garbage[:SECONDS],\n"
	"                      diverge[:DEGREES] (tcs2 only); docs/simulation.md\n"
	"\n"
	"devices:\n";

static void print_help(FILE *out)
{
	fputs(simulate_help, out);
	for (size_t i = 0; i < N_SIM_KINDS; i++)
		fprintf(out, "  %-8s %s\n", sim_kinds[i].name,
			sim_kinds[i].device);
}

struct simulate_args {
	const struct sim_kind *kind;
	uint64_t seed;
	bool has_fault;
	struct qst_sim_fault fault;
};

static const struct option simulate_options[] = {
	{ "seed", required_argument, NULL, 's' },
	{ "fault", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_seed(const char *arg, uint64_t *seed)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-') {
		qst_cli_error("--seed '%s' must be a non-negative integer", arg);
		return QST_EXIT_USAGE;
	}
	*seed = v;
	return -1;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct simulate_args *a)
{
	const char *fault = NULL;
	a->seed = 1;
	optind = 1;
	opterr = 0;
	int opt, ret;
	while ((opt = getopt_long(argc, argv, "", simulate_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			print_help(stdout);
			return QST_EXIT_OK;
		case 's':
			if ((ret = parse_seed(optarg, &a->seed)) >= 0)
				return ret;
			break;
		case 'f':
			fault = optarg;
			break;
		default:
			qst_cli_error("simulate: unknown or incomplete option '%s' "
				      "(see qst simulate --help)", argv[optind - 1]);
			return QST_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		qst_cli_error("usage: qst simulate DEVICE [--seed N] [--fault "
			      "KIND@S[:ARG]] (see --help)");
		return QST_EXIT_USAGE;
	}
	a->kind = find_kind(argv[optind]);
	if (!a->kind) {
		qst_cli_error("no simulator for '%s' (qst simulate --help lists "
			      "them)", argv[optind]);
		return QST_EXIT_USAGE;
	}
	if (fault) {
		char err[256];
		if (qst_sim_fault_parse(fault, &a->fault, err, sizeof(err)) < 0) {
			qst_cli_error("--fault: %s", err);
			return QST_EXIT_USAGE;
		}
		if (!a->kind->set_fault) {
			qst_cli_error("--fault: the %s simulator has no fault "
				      "injection", a->kind->name);
			return QST_EXIT_USAGE;
		}
		a->fault.seed = a->seed;
		a->has_fault = true;
	}
	return -1;
}

/* ------------------------------------------------------------- the pty */

/*
 * A new pty whose slave end is raw: the client's bytes reach the
 * simulator as sent (no echo back, no line editing, no CR to NL), and the
 * device's CR-prefixed lines reach the client as sent. The setting
 * belongs to the terminal, so it holds for every client that opens it.
 */
static int open_pty(char *path, size_t len)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
	    ptsname_r(m, path, len) != 0) {
		qst_cli_error("cannot create a pseudo-terminal: %s",
			      strerror(errno));
		if (m >= 0)
			close(m);
		return -1;
	}
	int s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios tio;
	if (s < 0 || tcgetattr(s, &tio) != 0) {
		qst_cli_error("cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	if (tcsetattr(s, TCSANOW, &tio) != 0 ||
	    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK) != 0) {
		qst_cli_error("cannot set up %s: %s", path, strerror(errno));
		goto fail;
	}
	close(s);
	return m;
fail:
	if (s >= 0)
		close(s);
	close(m);
	return -1;
}

/* ---------------------------------------------------------- the relay */

struct served {
	const struct sim_kind *kind;
	void *sim;
	int master;     /* pty master */
	int relay;      /* our end of the simulator's socketpair */
	bool client;    /* someone has the slave end open */
	struct qst_sim_outq to_client;
	int64_t t0;     /* CLOCK_MONOTONIC at simulator time 0 */
	char path[128]; /* the slave end, for clients */
};

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t sim_now(const struct served *sv)
{
	return qst_monotonic_ns() - sv->t0;
}

/* No slave end open: the master polls as hung up. */
static bool client_present(int master)
{
	struct pollfd pfd = { .fd = master, .events = 0 };
	return poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP);
}

/*
 * What was meant for the last client is not for the next one. It waits
 * in three places: our queue; the terminal's buffers on the way in,
 * which flushing the master's output empties; and the line discipline's
 * input, which the client did not read and which a pty keeps while its
 * master is open -- only a flush through the slave empties that.
 */
static void forget_output(struct served *sv)
{
	sv->to_client.len = 0;
	tcflush(sv->master, TCOFLUSH);
	int s = open(sv->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (s >= 0) {
		tcflush(s, TCIFLUSH);
		close(s);
	}
}

static void note_client(struct served *sv, bool present)
{
	if (present == sv->client)
		return;
	sv->client = present;
	qst_info("client %s", present ? "connected" : "gone; serving on");
	if (!present)
		forget_output(sv);
}

/* Client → device: hand the bytes to the simulator and let it take them
 * now, at their arrival. */
static void relay_commands(struct served *sv)
{
	uint8_t buf[4096];
	ssize_t n = read(sv->master, buf, sizeof(buf));
	if (n < 0 && errno == EIO)
		note_client(sv, false);
	if (n <= 0)
		return;
	/* A stalled simulator reads nothing; once its socket is full,
	 * what else the client sends is lost, as with a hung device. */
	if (send(sv->relay, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		qst_dbg("device not reading; command bytes dropped");
	sv->kind->step(sv->sim, sim_now(sv));
}

/* Device → client. Returns false once the simulator closed its end (a
 * disconnect fault): the device is unplugged. */
static bool relay_replies(struct served *sv)
{
	uint8_t buf[4096];
	ssize_t n = recv(sv->relay, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0)
		return false;
	if (n > 0 && sv->client)
		qst_sim_outq_send(&sv->to_client, sv->master, buf, (size_t)n,
				  "simulate");
	return true;
}

/* How long poll may sleep: until the simulator is due, never 0 (a
 * simulator that is due again at once is stepped next round). */
static int64_t wait_ns(const struct served *sv)
{
	int64_t left = sv->kind->next_due(sv->sim) - sim_now(sv);
	if (left < QST_NS_PER_MS)
		left = QST_NS_PER_MS;
	if (!sv->client && left > CLIENT_CHECK_MS * QST_NS_PER_MS)
		left = CLIENT_CHECK_MS * QST_NS_PER_MS;
	return left;
}

/* Serve until a signal (0) or an unplug (1 = the device went away). */
static int serve(struct served *sv, const sigset_t *waitmask)
{
	while (!stop_flag) {
		if (sv->kind->next_due(sv->sim) <= sim_now(sv))
			sv->kind->step(sv->sim, sim_now(sv));
		note_client(sv, client_present(sv->master));
		struct pollfd pfd[2] = {
			{ .fd = sv->relay, .events = POLLIN },
			{ .fd = sv->master, .events = POLLIN },
		};
		if (qst_sim_outq_pending(&sv->to_client))
			pfd[1].events |= POLLOUT;
		int64_t ns = wait_ns(sv);
		struct timespec ts = { .tv_sec = ns / QST_NS_PER_S,
				       .tv_nsec = ns % QST_NS_PER_S };
		int n = ppoll(pfd, sv->client ? 2 : 1, &ts, waitmask);
		if (n < 0 && errno != EINTR) {
			qst_err("poll: %s", strerror(errno));
			return -1;
		}
		if (n <= 0)
			continue;
		if ((pfd[0].revents & (POLLIN | POLLHUP)) && !relay_replies(sv))
			return 1;
		if (sv->client && (pfd[1].revents & POLLIN))
			relay_commands(sv);
		if (sv->client && (pfd[1].revents & POLLOUT))
			qst_sim_outq_flush(&sv->to_client, sv->master, "simulate");
	}
	return 0;
}

/* SIGINT and SIGTERM are held except inside ppoll, so a signal can never
 * slip in between the stop check and the wait. */
static void catch_signals(sigset_t *waitmask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGTERM);
}

static int start_sim(struct served *sv, const struct simulate_args *a)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sp) != 0) {
		qst_cli_error("socketpair: %s", strerror(errno));
		return QST_ERR_IO;
	}
	sv->relay = sp[0];
	sv->t0 = qst_monotonic_ns();
	int ret = sv->kind->create(sp[1], a->seed, 0, &sv->sim);
	if (ret == QST_OK && a->has_fault)
		ret = sv->kind->set_fault(sv->sim, &a->fault);
	if (ret < 0 && sv->sim && ret == QST_ERR_ARG)
		qst_cli_error("--fault: the %s simulator cannot develop a %s "
			      "fault", sv->kind->name,
			      qst_sim_fault_kind_name(a->fault.kind));
	else if (ret < 0)
		qst_cli_error("cannot start the %s simulator: %s", sv->kind->name,
			      qst_strerror(ret));
	if (ret < 0) {
		if (sv->sim)
			sv->kind->destroy(sv->sim); /* closes sp[1] */
		else
			close(sp[1]);
		sv->sim = NULL;
		close(sp[0]);
	}
	return ret;
}

int qst_cli_simulate(int argc, char **argv)
{
	struct simulate_args a = { 0 };
	int ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	struct served sv = { .kind = a.kind, .master = -1, .relay = -1 };
	sv.master = open_pty(sv.path, sizeof(sv.path));
	if (sv.master < 0)
		return QST_EXIT_ERROR;
	ret = start_sim(&sv, &a);
	if (ret < 0) {
		close(sv.master);
		return ret == QST_ERR_ARG ? QST_EXIT_USAGE : QST_EXIT_ERROR;
	}
	sigset_t waitmask;
	catch_signals(&waitmask);
	printf("%s\n", sv.path);
	fflush(stdout);
	fprintf(stderr, "qst: simulated %s on %s (stop with Ctrl-C)\n",
		a.kind->name, sv.path);
	int how = serve(&sv, &waitmask);
	if (how == 1)
		fprintf(stderr, "qst: simulated %s disconnected (fault); %s "
			"is gone\n", a.kind->name, sv.path);
	close(sv.master);
	sv.kind->destroy(sv.sim);
	close(sv.relay);
	qst_sim_outq_free(&sv.to_client);
	return how < 0 ? QST_EXIT_ERROR : QST_EXIT_OK;
}
