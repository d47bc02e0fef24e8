/*
 * Simulated QST.Lab TCS II: reads the fixed-width ASCII commands of
 * devices.md §1.3 from its end of the link and answers with the device's
 * own line formats (§1.4), with a plate that follows the commanded profile
 * through slew limits and a first-order lag.
 *
 * Behaviour devices.md does not pin down, chosen here:
 * - Parameters (C, V, R, D) latch when `L` arrives; changing `C` during a
 *   stimulus takes effect at the next `L` (T-PL hints the real device may
 *   move the setpoint live; not modelled).
 * - `L` while a stimulus runs replaces it: a new profile starts from the
 *   plate's present temperature (devices.md §1.3 says `L` re-launches).
 * - `A` returns every zone to neutral at its return rate (`R`), starting
 *   from wherever the setpoint is.
 * - Targets above `Om` are clamped to it when `L` latches them; the power-up
 *   maximum is 50.0 °C. Power-up neutral is the configured initial
 *   temperature; power-up zone parameters C = neutral, V = R = 1.0 °C/s,
 *   D = 1000 ms, all zones enabled.
 * - The neutral field of a temperature line is the `N` setting.
 * - Setters outside the printed ranges are ignored (no reply: the device
 *   ACKs nothing). `C` accepts 000..600 like the driver (protocol.h).
 * - Stream lines: every 10 ms while stimulating, every 1 s otherwise
 *   (devices.md §1.4); the first 100 Hz line is 10 ms after `L`, and the
 *   1 Hz schedule resumes 1 s after the last 100 Hz line. `Y` is ignored.
 * - Replies and stream lines carry the documented CR prefix and nothing
 *   after them (trailing bytes are gap G2).
 * - Waveforms (`Uw`, `Ue`): the header and its segments may arrive in
 *   any number of writes; a non-digit inside the segments drops the
 *   upload and starts the next command. With `Ue` on for a zone, `L` plays its profile: the first
 *   segment from the plate's temperature at `L`, each straight to its end
 *   temperature in its duration, then the return to neutral at `R`, as
 *   after a ramp (the gaps of protocol.h). `C`, `V`, `D` are then unused.
 * - `P` answers the documented layout (protocol.h) with the settings as
 *   received, `C` unclamped (whether the device shows the clamped value
 *   is part of gap G3). `Om` is not shown, as in the documented layout.
 * - `Q` answers six digits, neutral first (the assumed order, protocol.h);
 *   all 0 unless qst_tcs2_sim_set_error set one.
 * - The probe buttons are down from a press for SIM_PRESS_NS and are seen
 *   only through `K` and `Og` (the device pushes nothing, §1.3). `Og`
 *   answers an `E` line, LF, then the `K` characters (T-WL2's sscanf).
 * - Injected faults (qst_tcs2_sim_set_fault, docs/simulation.md): a
 *   stalled device keeps its plate on the profile it was running but reads
 *   and says nothing; a diverging plate settles at its temperature at the
 *   fault plus the drift, whatever is commanded, `A` included.
 */
#define LOG_PREFIX "tcs2-sim: "

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tcs2/protocol.h"
#include "qst_sim.h"
#include "sim_fault.h"
#include "sim_outq.h"

#define STREAM_STIM_NS (10 * QST_NS_PER_MS) /* 100 Hz, devices.md §1.4 */
#define STREAM_IDLE_NS QST_NS_PER_S         /* 1 Hz */
#define PHYSICS_STEP_NS QST_NS_PER_MS
#define POWERUP_MAX_TENTHS 500
#define SIM_PRESS_NS (150 * QST_NS_PER_MS) /* a tap on the probe handle */

struct zone_params {
	int target;   /* 1/10 °C */
	int rise;     /* 1/10 °C/s */
	int back;     /* 1/10 °C/s */
	int duration; /* ms */
};

/* A zone's uploaded waveform (`Uw`), played by `L` while `Ue` is on. */
struct zone_wave {
	bool enabled;
	int n;
	struct qst_tcs2_wave_seg seg[QST_TCS2_WAVE_SEG_MAX];
};

/* One zone's running stimulus: rise/plateau until ret_start, then return. */
struct zone_stim {
	bool active;
	bool wave;         /* playing the zone's waveform, not a ramp */
	int64_t start_ns;
	double from_c;
	double target_c;
	double rise_c_s;
	double back_c_s;
	int64_t ret_start_ns;
	double ret_from_c; /* setpoint when the return began (NAN until then) */
};

struct qst_tcs2_sim {
	int fd;
	struct qst_tcs2_sim_config cfg;
	struct qst_rng rng;
	int64_t now_ns;
	int neutral;          /* 1/10 °C */
	int max;              /* 1/10 °C */
	unsigned zone_mask;   /* bit z = zone z+1 enabled */
	bool stream_idle;     /* `Oa` */
	bool stream_stim;     /* `Ob` */
	struct zone_params par[QST_TCS2_ZONES];
	struct zone_stim stim[QST_TCS2_ZONES];
	struct zone_wave wave[QST_TCS2_ZONES];
	/* a `Uw` upload in progress: segments still expected, and where */
	int wave_expect;
	unsigned wave_mask;
	struct zone_wave upload;
	char wave_seg[QST_TCS2_WAVE_SEG_LEN];
	size_t wave_seg_len;
	double plate_c[QST_TCS2_ZONES];
	int64_t next_line_ns;
	char cmd[QST_TCS2_CMD_MAX];
	size_t cmd_len;
	struct qst_sim_outq out;
	struct qst_sim_fault_state fault;
	int errors[QST_TCS2_ERROR_FIELDS]; /* `Q` digits */
	int64_t pressed_at[QST_TCS2_BUTTONS]; /* last press, or INT64_MIN */
	bool diverged;        /* diverge_c holds where the plate now heads */
	double diverge_c[QST_TCS2_ZONES];
};

/* ----------------------------------------------------------------- output */

static void send_bytes(struct qst_tcs2_sim *sim, const char *s, size_t len)
{
	qst_sim_fault_send(&sim->fault, &sim->out, sim->fd, s, len, sim->now_ns);
}

static void send_line(struct qst_tcs2_sim *sim, const char *text)
{
	char buf[QST_TCS2_LINE_MAX + 2];
	int n = snprintf(buf, sizeof(buf), "\r%s", text);
	send_bytes(sim, buf, (size_t)n);
}

static int readback_tenths(struct qst_tcs2_sim *sim, double c)
{
	double noisy = c + qst_rng_normal(&sim->rng, 0.0, sim->cfg.noise_sd_c);
	long v = lround(noisy * 10.0);
	return (int)(v > 999 ? 999 : v < -999 ? -999 : v);
}

static void send_temperatures(struct qst_tcs2_sim *sim)
{
	struct qst_tcs2_frame f;
	f.tenths[0] = sim->neutral;
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		f.tenths[1 + z] = readback_tenths(sim, sim->plate_c[z]);
	char buf[32];
	int n = qst_tcs2_format_frame(&f, buf, sizeof(buf));
	if (n > 0)
		send_bytes(sim, buf, (size_t)n);
}

/* `P`: header, then one line per zone (devices.md §1.3). */
static void send_params(struct qst_tcs2_sim *sim)
{
	char line[QST_TCS2_LINE_MAX];
	if (qst_tcs2_format_params_header(line, sizeof(line), sim->neutral,
					  sim->zone_mask) > 0)
		send_line(sim, line);
	for (int z = 0; z < QST_TCS2_ZONES; z++) {
		const struct zone_params *p = &sim->par[z];
		if (qst_tcs2_format_params_zone(line, sizeof(line), p->target,
						p->rise, p->back, p->duration) > 0)
			send_line(sim, line);
	}
}

static void send_errors(struct qst_tcs2_sim *sim)
{
	char line[QST_TCS2_ERROR_FIELDS + 1];
	for (int i = 0; i < QST_TCS2_ERROR_FIELDS; i++)
		line[i] = (char)('0' + sim->errors[i]);
	line[QST_TCS2_ERROR_FIELDS] = '\0';
	send_line(sim, line);
}

/* `K` characters: button 1 first ("10" = button 1 only, §1.3). */
static void button_chars(const struct qst_tcs2_sim *sim, char out[3])
{
	for (int b = 0; b < QST_TCS2_BUTTONS; b++) {
		int64_t at = sim->pressed_at[b];
		bool down = at != INT64_MIN && sim->now_ns >= at &&
			    sim->now_ns < at + SIM_PRESS_NS;
		out[b] = down ? '1' : '0';
	}
	out[2] = '\0';
}

static void send_buttons(struct qst_tcs2_sim *sim)
{
	char k[3];
	button_chars(sim, k);
	send_line(sim, k);
}

static void send_temps_buttons(struct qst_tcs2_sim *sim)
{
	char k[4] = "\n";
	send_temperatures(sim);
	button_chars(sim, k + 1);
	send_bytes(sim, k, 3);
}

/* A short `H` text in the layout of devices.md §1.3 (T-H). */
static void send_help(struct qst_tcs2_sim *sim)
{
	char probe[QST_TCS2_LINE_MAX];
	snprintf(probe, sizeof(probe), "Probe ID: %s", sim->cfg.serial);
	send_line(sim, "Firmware: 900 qst simulator");
	send_line(sim, probe);
	send_line(sim, "Probe TYPE: 003");
	send_line(sim, "");
	send_line(sim, "Command list:");
	send_line(sim, "Nxxx: neutral temperature, 1/10 C, 200..400");
	send_line(sim, "Csxxx: stimulation temperature, 1/10 C, 100..600");
	send_line(sim, "Vsxxxx: rise speed, 1/10 C/s");
	send_line(sim, "Rsxxxx: return speed, 1/10 C/s");
	send_line(sim, "Dsxxxxx: stimulation duration, ms");
	send_line(sim, "L: start stimulation, A: abort, E: temperatures");
}

/* ---------------------------------------------------------------- physics */

static double neutral_c(const struct qst_tcs2_sim *sim)
{
	return sim->neutral / 10.0;
}

static double step_toward(double from, double to, double rate_c_s, double el_s)
{
	double d = rate_c_s * el_s;
	if (to > from)
		return from + d < to ? from + d : to;
	return from - d > to ? from - d : to;
}

/* Where zone z's waveform puts the setpoint at t (before its end). */
static double wave_setpoint(const struct qst_tcs2_sim *sim, int z,
			    int64_t t_ns)
{
	const struct zone_stim *s = &sim->stim[z];
	const struct zone_wave *w = &sim->wave[z];
	double from = s->from_c;
	int64_t t0 = s->start_ns;
	for (int i = 0; i < w->n; i++) {
		int64_t len = (int64_t)w->seg[i].ticks * QST_TCS2_WAVE_TICK_MS *
			      QST_NS_PER_MS;
		double to = w->seg[i].tenths_c / 10.0;
		if (t_ns < t0 + len)
			return from + (to - from) * (double)(t_ns - t0) / (double)len;
		from = to;
		t0 += len;
	}
	return from;
}

/* The commanded temperature of zone z at t; ends the stimulus when done. */
static double setpoint(struct qst_tcs2_sim *sim, int z, int64_t t_ns)
{
	struct zone_stim *s = &sim->stim[z];
	if (!s->active)
		return neutral_c(sim);
	if (t_ns < s->ret_start_ns && s->wave)
		return wave_setpoint(sim, z, t_ns);
	if (t_ns < s->ret_start_ns)
		return step_toward(s->from_c, s->target_c, s->rise_c_s,
				   qst_ns_to_s(t_ns - s->start_ns));
	if (isnan(s->ret_from_c))
		s->ret_from_c = step_toward(s->from_c, s->target_c, s->rise_c_s,
					    qst_ns_to_s(s->ret_start_ns -
							s->start_ns));
	double sp = step_toward(s->ret_from_c, neutral_c(sim), s->back_c_s,
				qst_ns_to_s(t_ns - s->ret_start_ns));
	if (sp == neutral_c(sim))
		s->active = false;
	return sp;
}

static double follow(const struct qst_tcs2_sim *sim, double plate, double sp,
		     double dt_s)
{
	double delta = sp - plate;
	if (sim->cfg.lag_s > 0)
		delta *= 1.0 - exp(-dt_s / sim->cfg.lag_s);
	double up = sim->cfg.max_heat_c_s * dt_s;
	double down = -sim->cfg.max_cool_c_s * dt_s;
	return plate + (delta > up ? up : delta < down ? down : delta);
}

static bool settled(const struct qst_tcs2_sim *sim)
{
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		if (sim->stim[z].active ||
		    fabs(sim->plate_c[z] - neutral_c(sim)) > 1e-9)
			return false;
	return true;
}

/* A diverging plate heads for where it was at the fault plus the drift. */
static double drive_target(struct qst_tcs2_sim *sim, int z, double sp)
{
	if (!qst_sim_fault_diverging(&sim->fault, sim->now_ns))
		return sp;
	if (!sim->diverged) {
		for (int i = 0; i < QST_TCS2_ZONES; i++)
			sim->diverge_c[i] = sim->plate_c[i] + sim->fault.f.arg;
		sim->diverged = true;
		qst_info("plate stops following the command at %.3f s",
			 qst_ns_to_s(sim->now_ns));
	}
	return sim->diverge_c[z];
}

static void physics_to(struct qst_tcs2_sim *sim, int64_t t_ns)
{
	while (sim->now_ns < t_ns) {
		if (settled(sim) && !qst_sim_fault_diverging(&sim->fault, t_ns)) {
			sim->now_ns = t_ns;
			return;
		}
		int64_t dt = t_ns - sim->now_ns;
		if (dt > PHYSICS_STEP_NS)
			dt = PHYSICS_STEP_NS;
		sim->now_ns += dt;
		for (int z = 0; z < QST_TCS2_ZONES; z++) {
			double sp = drive_target(sim, z,
						 setpoint(sim, z, sim->now_ns));
			sim->plate_c[z] = follow(sim, sim->plate_c[z], sp,
						 qst_ns_to_s(dt));
			if (!sim->stim[z].active &&
			    fabs(sim->plate_c[z] - sp) < 1e-6)
				sim->plate_c[z] = sp;
		}
	}
}

bool qst_tcs2_sim_stimulating(const struct qst_tcs2_sim *sim)
{
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		if (sim->stim[z].active)
			return true;
	return false;
}

double qst_tcs2_sim_plate_c(const struct qst_tcs2_sim *sim)
{
	double sum = 0;
	int n = 0;
	for (int z = 0; z < QST_TCS2_ZONES; z++) {
		if (sim->zone_mask & (1u << z)) {
			sum += sim->plate_c[z];
			n++;
		}
	}
	return n ? sum / n : neutral_c(sim);
}

/* ------------------------------------------------------------ stimulation */

/* The profile's length and where the return starts from. */
static void start_wave(struct qst_tcs2_sim *sim, int z)
{
	struct zone_stim *s = &sim->stim[z];
	const struct zone_wave *w = &sim->wave[z];
	int64_t len = 0;
	for (int i = 0; i < w->n; i++)
		len += (int64_t)w->seg[i].ticks * QST_TCS2_WAVE_TICK_MS *
		       QST_NS_PER_MS;
	s->ret_start_ns = sim->now_ns + len;
	s->ret_from_c = w->seg[w->n - 1].tenths_c / 10.0;
}

static void start_stimulus(struct qst_tcs2_sim *sim)
{
	for (int z = 0; z < QST_TCS2_ZONES; z++) {
		struct zone_stim *s = &sim->stim[z];
		const struct zone_params *p = &sim->par[z];
		if (!(sim->zone_mask & (1u << z))) {
			s->active = false;
			continue;
		}
		int target = p->target > sim->max ? sim->max : p->target;
		s->active = true;
		s->start_ns = sim->now_ns;
		s->from_c = sim->plate_c[z];
		s->target_c = target / 10.0;
		s->rise_c_s = p->rise / 10.0;
		s->back_c_s = p->back / 10.0;
		s->ret_start_ns = sim->now_ns + (int64_t)p->duration * QST_NS_PER_MS;
		s->ret_from_c = NAN;
		s->wave = sim->wave[z].enabled && sim->wave[z].n > 0;
		if (s->wave)
			start_wave(sim, z);
	}
	sim->next_line_ns = sim->now_ns + STREAM_STIM_NS;
	qst_dbg("L at %.3f s", qst_ns_to_s(sim->now_ns));
}

static void abort_stimulus(struct qst_tcs2_sim *sim)
{
	for (int z = 0; z < QST_TCS2_ZONES; z++) {
		struct zone_stim *s = &sim->stim[z];
		if (!s->active || sim->now_ns >= s->ret_start_ns)
			continue;
		s->ret_from_c = setpoint(sim, z, sim->now_ns);
		s->ret_start_ns = sim->now_ns;
		s->wave = false;
	}
	qst_dbg("A at %.3f s", qst_ns_to_s(sim->now_ns));
}

/* --------------------------------------------------------- command parser */

static bool digits(const char *s, size_t n, int *value)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*value = v;
	return true;
}

/* Total length of the command begun in cmd, 0 if not yet known. */
static size_t command_length(const char *cmd, size_t len)
{
	switch (cmd[0]) {
	case 'N': return 4;
	case 'S': return 6;
	case 'C': return 5;
	case 'V': case 'R': return 6;
	case 'D': case 'T': case 'Z': return 7;
	case 'Y': return 5;
	case 'I': return 2;
	case 'U':
		if (len < 2)
			return 0;
		return cmd[1] == 'w' ? QST_TCS2_WAVE_HEADER_LEN :
		       cmd[1] == 'e' ? 7 : 2;
	case 'O':
		if (len < 2)
			return 0;
		switch (cmd[1]) {
		case 'm': return 5;
		case 'x': return 4;
		case 'v': case 'r': return 8;
		case 't': return 7;
		case 'f': case 'i': return 3;
		default: return 2;
		}
	default: return 1;
	}
}

enum zone_field { PAR_TARGET, PAR_RISE, PAR_BACK, PAR_DURATION };

/* Apply a zone-addressed setter (`Csxxx` etc.) to one zone or all. */
static void set_zone_param(struct qst_tcs2_sim *sim, const char *cmd,
			   size_t ndigits, int lo, int hi,
			   enum zone_field field)
{
	int zone, v;
	if (!digits(cmd + 1, 1, &zone) || zone > QST_TCS2_ZONES ||
	    !digits(cmd + 2, ndigits, &v) || v < lo || v > hi) {
		qst_dbg("ignoring malformed %.*s", (int)(2 + ndigits), cmd);
		return;
	}
	for (int z = 0; z < QST_TCS2_ZONES; z++) {
		if (zone != 0 && zone != z + 1)
			continue;
		struct zone_params *p = &sim->par[z];
		switch (field) {
		case PAR_TARGET: p->target = v; break;
		case PAR_RISE: p->rise = v; break;
		case PAR_BACK: p->back = v; break;
		default: p->duration = v; break;
		}
	}
}

static void set_neutral(struct qst_tcs2_sim *sim, const char *cmd)
{
	int v;
	if (digits(cmd + 1, 3, &v) && v >= QST_TCS2_NEUTRAL_MIN &&
	    v <= QST_TCS2_NEUTRAL_MAX)
		sim->neutral = v;
	else
		qst_dbg("ignoring %.4s", cmd);
}

static void set_zones(struct qst_tcs2_sim *sim, const char *cmd)
{
	unsigned mask = 0;
	for (int z = 0; z < QST_TCS2_ZONES; z++) {
		if (cmd[1 + z] != '0' && cmd[1 + z] != '1') {
			qst_dbg("ignoring %.6s", cmd);
			return;
		}
		mask |= (cmd[1 + z] == '1' ? 1u : 0u) << z;
	}
	sim->zone_mask = mask;
}

static void run_option(struct qst_tcs2_sim *sim, const char *cmd)
{
	int v;
	switch (cmd[1]) {
	case 'a': sim->stream_idle = true; break;
	case 'b': sim->stream_stim = true; break;
	case 'g': send_temps_buttons(sim); break;
	case 'm':
		if (digits(cmd + 2, 3, &v) && v >= QST_TCS2_OM_MIN &&
		    v <= QST_TCS2_TARGET_MAX)
			sim->max = v;
		else
			qst_dbg("ignoring %.5s", cmd);
		break;
	default: qst_dbg("O%c not simulated", cmd[1]); break;
	}
}

static bool parse_mask(const char *s, unsigned *mask)
{
	*mask = 0;
	for (int z = 0; z < QST_TCS2_ZONES; z++) {
		if (s[z] != '0' && s[z] != '1')
			return false;
		*mask |= (s[z] == '1' ? 1u : 0u) << z;
	}
	return true;
}

/* `Uwzzzzznnn` starts an upload, `Uezzzzz` switches profiles on or off. */
static void run_wave_command(struct qst_tcs2_sim *sim, const char *cmd)
{
	unsigned mask;
	int n;
	if (cmd[1] == 'w' && parse_mask(cmd + 2, &mask) &&
	    digits(cmd + 7, 3, &n)) {
		sim->wave_mask = mask;
		sim->wave_expect = n;
		sim->wave_seg_len = 0;
		sim->upload.n = 0;
		if (n == 0)
			for (int z = 0; z < QST_TCS2_ZONES; z++)
				if (mask & (1u << z))
					sim->wave[z].n = 0;
	} else if (cmd[1] == 'e' && parse_mask(cmd + 2, &mask)) {
		for (int z = 0; z < QST_TCS2_ZONES; z++)
			sim->wave[z].enabled = (mask >> z) & 1;
	} else {
		qst_dbg("U%c not simulated or malformed", cmd[1]);
	}
}

static void run_command(struct qst_tcs2_sim *sim, const char *cmd)
{
	switch (cmd[0]) {
	case '?': send_line(sim, QST_TCS2_IDENTITY); break;
	case 'H': send_help(sim); break;
	case 'E': send_temperatures(sim); break;
	case 'K': send_buttons(sim); break;
	case 'Q': send_errors(sim); break;
	case 'P': send_params(sim); break;
	case 'N': set_neutral(sim, cmd); break;
	case 'S': set_zones(sim, cmd); break;
	case 'C': set_zone_param(sim, cmd, 3, QST_TCS2_TARGET_MIN,
				   QST_TCS2_TARGET_MAX, PAR_TARGET); break;
	case 'V': set_zone_param(sim, cmd, 4, 1, 9999, PAR_RISE); break;
	case 'R': set_zone_param(sim, cmd, 4, 1, 9999, PAR_BACK); break;
	case 'D': set_zone_param(sim, cmd, 5, 1, 99999, PAR_DURATION); break;
	case 'L': start_stimulus(sim); break;
	case 'A': abort_stimulus(sim); break;
	case 'F': sim->stream_idle = sim->stream_stim = false; break;
	case 'O': run_option(sim, cmd); break;
	case 'U': run_wave_command(sim, cmd); break;
	default: qst_dbg("%c not simulated", cmd[0]); break;
	}
}

/* One `dddttt` of an upload; the last one installs the profile. */
static void take_wave_digit(struct qst_tcs2_sim *sim, char c)
{
	sim->wave_seg[sim->wave_seg_len++] = c;
	if (sim->wave_seg_len < QST_TCS2_WAVE_SEG_LEN)
		return;
	sim->wave_seg_len = 0;
	struct qst_tcs2_wave_seg g;
	/* take_byte passes digits only, but the compiler cannot see that
	 * (GCC under ASan warns g may be used uninitialised): check. */
	if (!digits(sim->wave_seg, 3, &g.ticks) ||
	    !digits(sim->wave_seg + 3, 3, &g.tenths_c) || g.ticks < 1 ||
	    g.tenths_c > QST_TCS2_TARGET_MAX) {
		qst_dbg("waveform upload dropped: segment %.6s", sim->wave_seg);
		sim->wave_expect = 0;
		return;
	}
	sim->upload.seg[sim->upload.n++] = g;
	if (--sim->wave_expect > 0)
		return;
	for (int z = 0; z < QST_TCS2_ZONES; z++)
		if (sim->wave_mask & (1u << z)) {
			bool on = sim->wave[z].enabled;
			sim->wave[z] = sim->upload;
			sim->wave[z].enabled = on;
		}
	qst_dbg("waveform of %d segments stored", sim->upload.n);
}

/*
 * Commands start with an upper-case letter or `?`; anything else between
 * them (spaces, the literal "\n" T-WL appends, stray bytes) is skipped,
 * which is how the real device evidently treats it (devices.md §1.2).
 */
static bool command_start(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '?';
}

static void take_byte(void *arg, char c)
{
	struct qst_tcs2_sim *sim = arg;
	if (sim->cmd_len == 0 && sim->wave_expect > 0) {
		if (c >= '0' && c <= '9') {
			take_wave_digit(sim, c);
			return;
		}
		/* Fewer segments than announced: the upload is dropped and
		 * the byte is read as what it is, a new command. */
		qst_dbg("waveform upload dropped at segment %d: '%c'",
			sim->upload.n + 1, c);
		sim->wave_expect = 0;
	}
	if (sim->cmd_len == 0 && !command_start(c))
		return;
	sim->cmd[sim->cmd_len++] = c;
	size_t need = command_length(sim->cmd, sim->cmd_len);
	if (need == 0 || sim->cmd_len < need)
		return;
	sim->cmd[sim->cmd_len] = '\0';
	qst_spew("command %s at %.3f s", sim->cmd, qst_ns_to_s(sim->now_ns));
	run_command(sim, sim->cmd);
	sim->cmd_len = 0;
}

/* ------------------------------------------------------------- public API */

static const struct qst_tcs2_sim_config default_config = {
	.initial_c = 32.0, .max_heat_c_s = 70.0, .max_cool_c_s = 40.0,
	.lag_s = 0.05, .noise_sd_c = 0.02, .seed = 1, .serial = "SIM-0001",
};

/* Zero lag and zero noise are meaningful; unusable values are not. */
static void sanitize_config(struct qst_tcs2_sim_config *c)
{
	if (!isfinite(c->initial_c) || c->initial_c < 0 || c->initial_c > 60)
		c->initial_c = default_config.initial_c;
	if (!(c->max_heat_c_s > 0))
		c->max_heat_c_s = default_config.max_heat_c_s;
	if (!(c->max_cool_c_s > 0))
		c->max_cool_c_s = default_config.max_cool_c_s;
	if (!(c->lag_s >= 0))
		c->lag_s = default_config.lag_s;
	if (!(c->noise_sd_c >= 0))
		c->noise_sd_c = default_config.noise_sd_c;
	c->serial[sizeof(c->serial) - 1] = '\0';
	if (!c->serial[0])
		snprintf(c->serial, sizeof(c->serial), "%s",
			 default_config.serial);
}

int qst_tcs2_sim_new(int fd, const struct qst_tcs2_sim_config *cfg,
		     int64_t t0_ns, struct qst_tcs2_sim **out)
{
	if (fd < 0 || !out)
		return QST_ERR_ARG;
	struct qst_tcs2_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return QST_ERR_NOMEM;
	sim->cfg = cfg ? *cfg : default_config;
	sanitize_config(&sim->cfg);
	sim->fd = fd;
	qst_rng_seed(&sim->rng, sim->cfg.seed);
	sim->now_ns = t0_ns;
	int n;
	if (qst_tcs2_to_tenths(sim->cfg.initial_c, &n) < 0)
		n = 320;
	sim->neutral = n < QST_TCS2_NEUTRAL_MIN ? QST_TCS2_NEUTRAL_MIN :
		       n > QST_TCS2_NEUTRAL_MAX ? QST_TCS2_NEUTRAL_MAX : n;
	sim->max = POWERUP_MAX_TENTHS;
	sim->zone_mask = 0x1f;
	sim->stream_idle = sim->stream_stim = true;
	for (int z = 0; z < QST_TCS2_ZONES; z++) {
		sim->par[z] = (struct zone_params){ sim->neutral, 10, 10, 1000 };
		sim->plate_c[z] = sim->cfg.initial_c;
	}
	sim->next_line_ns = t0_ns + STREAM_IDLE_NS;
	for (int b = 0; b < QST_TCS2_BUTTONS; b++)
		sim->pressed_at[b] = INT64_MIN;
	struct qst_sim_fault none = { .kind = QST_SIM_FAULT_NONE };
	qst_sim_fault_arm(&sim->fault, &none, "tcs2-sim");
	*out = sim;
	return QST_OK;
}

void qst_tcs2_sim_free(struct qst_tcs2_sim *sim)
{
	if (!sim)
		return;
	qst_sim_outq_free(&sim->out);
	if (sim->fd >= 0)
		close(sim->fd);
	free(sim);
}

/* Stream lines that fell due up to t, each with the plate as it was then. */
static void emit_due_lines(struct qst_tcs2_sim *sim, int64_t t_ns)
{
	while (sim->next_line_ns <= t_ns) {
		physics_to(sim, sim->next_line_ns);
		bool stim = qst_tcs2_sim_stimulating(sim);
		if (stim ? sim->stream_stim : sim->stream_idle)
			send_temperatures(sim);
		sim->next_line_ns += stim ? STREAM_STIM_NS : STREAM_IDLE_NS;
	}
}

void qst_tcs2_sim_step(struct qst_tcs2_sim *sim, int64_t t_ns)
{
	if (!sim || t_ns < sim->now_ns)
		return;
	if (qst_sim_fault_link_gone(&sim->fault, &sim->fd, t_ns)) {
		physics_to(sim, t_ns);
		return;
	}
	if (qst_sim_fault_talks(&sim->fault, t_ns))
		qst_sim_outq_flush(&sim->out, sim->fd, "tcs2-sim");
	emit_due_lines(sim, t_ns);
	physics_to(sim, t_ns);
	if (qst_sim_fault_talks(&sim->fault, t_ns))
		qst_sim_read_commands(sim->fd, take_byte, sim);
	/* A stimulus started now brings its first line forward. */
	emit_due_lines(sim, t_ns);
	qst_sim_fault_noise(&sim->fault, &sim->out, sim->fd, t_ns);
}

int64_t qst_tcs2_sim_next_due(const struct qst_tcs2_sim *sim)
{
	if (!sim)
		return QST_SIM_NEVER;
	int64_t fault = qst_sim_fault_next_due(&sim->fault);
	/* A stalled device holds its queue: nothing to step for. */
	if (qst_sim_outq_pending(&sim->out) > 0 &&
	    qst_sim_fault_talks(&sim->fault, sim->now_ns))
		return sim->now_ns;
	return sim->next_line_ns < fault ? sim->next_line_ns : fault;
}

int qst_tcs2_sim_set_fault(struct qst_tcs2_sim *sim,
			   const struct qst_sim_fault *fault)
{
	if (!sim || !fault)
		return QST_ERR_ARG;
	qst_sim_fault_arm(&sim->fault, fault, "tcs2-sim");
	sim->diverged = false;
	return QST_OK;
}

int qst_tcs2_sim_press_button(struct qst_tcs2_sim *sim, int64_t t_ns,
			      int button)
{
	if (!sim || button < 1 || button > QST_TCS2_BUTTONS)
		return QST_ERR_ARG;
	sim->pressed_at[button - 1] = t_ns;
	return QST_OK;
}

int qst_tcs2_sim_set_error(struct qst_tcs2_sim *sim, int field, int code)
{
	if (!sim || field < 0 || field >= QST_TCS2_ERROR_FIELDS || code < 0 ||
	    code > 9)
		return QST_ERR_ARG;
	sim->errors[field] = code;
	return QST_OK;
}
