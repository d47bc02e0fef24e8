#!/usr/bin/env python3
"""The paradigm indices of a session file, against the virtual
participant's documented truths (docs/simulation.md, "The virtual
participant's heat pain"; docs/paradigms.md for the marks contract).

    paradigm_truth.py tsp|cpm|cpm-sequential|oa HEALTHY.h5 SENSITIZED.h5
    paradigm_truth.py levels FILE.h5

Everything is computed here from the raw /events, /rating and
/simulation of the files, independently of the station's C analysis: the
indices from the ratings through the marks the scripts leave
(qst-domain.md §6.1 TSP, §6.3 CPM, §6.4 OA, §7.2 levels), the truths from
the model equations of docs/simulation.md written out again. Prints the
indices, exits 1 when an index misses its truth or the two profiles are
not separated in the documented direction.
"""
import math
import sys

import h5py
import numpy as np


class Session:
    def __init__(self, path):
        self.path = path
        with h5py.File(path, "r") as f:
            names = f["lookup/event_code_names"].asstr()[()]
            self.code = names[f["events/code"][()]]
            self.t = f["events/t_s"][()]
            self.v = f["events/value"][()]
            self.v2 = f["events/value2"][()]
            self.msg = f["events/message"].asstr()[()]
            sim = f["simulation"].attrs
            self.profile = sim["participant_profile"]
            if isinstance(self.profile, bytes):
                self.profile = self.profile.decode()
            self.sim = {k: float(v) for k, v in sim.items()
                        if k != "participant_profile"}
            self.rating_t = f["rating/t_s"][()] if "rating" in f else None
            self.rating_v = f["rating/value"][()] if "rating" in f else None
            assert f.attrs["complete"] == 1, f"{path}: session not complete"

    def rows(self, name, label=None):
        return [i for i in range(len(self.code)) if self.code[i] == name and
                (label is None or self.msg[i] == label)]

    def mark(self, label):
        m = self.rows("mark", label)
        assert len(m) == 1, f"{self.profile}: {len(m)} marks '{label}'"
        return m[0]

    def ratings_after(self, i):
        """The `rating` events after event i up to the next mark."""
        out = []
        for j in range(i + 1, len(self.code)):
            if self.code[j] == "mark":
                break
            if self.code[j] == "rating":
                out.append(j)
        return out

    def u(self, temp_c):
        """Static pain 0..1 of a plate held at temp_c (simulation.md)."""
        hpt, p50 = self.sim["hpt_c"], self.sim["heat_p50_c"]
        if temp_c <= hpt:
            return 0.0
        x = (temp_c - hpt) / (p50 - hpt)
        n = 4 * self.sim["heat_slope"] * (p50 - hpt) / 100
        return x ** n / (1 + x ** n)

    def slope(self, temp_c):
        """NRS points per degC at temp_c: how much a plate off by a
        readback step moves the truth."""
        return 100 * (self.u(temp_c + 0.05) - self.u(temp_c - 0.05)) / 0.1


def check(ok, what):
    if not ok:
        print("FAIL:", what)
        sys.exit(1)


def near(name, profile, got, truth, tol):
    print(f"  {profile:10s} {name:12s} {got:8.2f}   truth {truth:8.2f} +- {tol:.2f}")
    check(abs(got - truth) <= tol, f"{profile}: {name} {got:.2f} is not "
          f"within {tol:.2f} of the truth {truth:.2f}")


# ------------------------------------------------------------------ TSP

def train_settings(s):
    """The session's train, from its (first) train_start message; the
    trains of a CPM session are all the same TS."""
    words = s.msg[s.rows("train_start")[0]].split()
    # "10 pulses 40.0 -> 48.0 degC at 0.4 Hz, hold 0.5 s, rise 10, fall 10 degC/s"
    return dict(n=int(words[0]), base=float(words[2]), peak=float(words[4]),
                hz=float(words[7]), hold=float(words[10]),
                rise=float(words[13].rstrip(",")), fall=float(words[15]))


def tsp(s):
    check(len(s.rows("train_start")) == 1, "one train expected")
    r = {int(s.v[i]): s.v2[i] for i in s.rows("rating")}
    first, last = min(r), max(r)
    index = r[last] - r[first]  # TSP_diff, qst-domain.md §6.1
    p = train_settings(s)
    peaks = [s.v2[i] for i in s.rows("pulse_peak")]
    peak = float(np.mean(peaks))
    up, ub = s.u(peak), s.u(p["base"])
    ramp, isi, tau = (p["peak"] - p["base"]) / p["rise"], 1 / p["hz"], s.sim["ts_tau_s"]
    r1 = 100 * up
    diff = (100 * up * s.sim["ts_gain"] * (up - ub) * math.exp((ramp + p["hold"]) / tau)
            * sum(math.exp(-k * isi / tau) for k in range(1, p["n"])))
    truth = min(100.0, r1 + diff) - r1  # ratings stop at the top of the scale
    # Tolerance: the closed form itself is checked to 3% against the model
    # (test_participant_paradigms.c); two ratings, each with rating_sd noise
    # (3 sd of their difference) and rounded (0.5 each); the peak read back
    # to 0.1 degC moves R_1 by the curve's slope there.
    sd = s.sim["rating_sd"]
    tol = 0.03 * diff + 3 * math.sqrt(2) * sd + 1.0 + 0.1 * s.slope(peak)
    near("R_first", s.profile, r[first], r1, 3 * sd + 0.5 + 0.1 * s.slope(peak))
    near("TSP_diff", s.profile, index, truth, tol)
    return index


# ------------------------------------------------------------------ CPM

def block(s, label):
    i = s.mark(label)
    js = s.ratings_after(i)
    assert js, f"{s.profile}: no ratings after '{label}'"
    return js


def conditioning_at(s, t):
    """c(t) of simulation.md: intensity while on, then fading."""
    c, on_at, off_at, level = 0.0, None, None, 0.0
    for i in s.rows("condition"):
        if s.t[i] > t:
            break
        if s.v2[i] == 1:
            on_at, level = s.t[i], s.v[i]
        else:
            off_at = s.t[i]
    if on_at is None:
        return 0.0
    if off_at is None or off_at < on_at:
        return level
    return level * math.exp(-(t - off_at) / s.sim["cpm_tau_s"])


def cpm_block_truth(s, js):
    """The noise-free rating of each TS in a block: the peak pain of the
    pulse, at the end of its hold (where a fading conditioning has faded
    most, so the pain is highest)."""
    p = train_settings(s)
    truths = []
    for j in js:
        pulse = max(i for i in s.rows("pulse") if s.t[i] < s.t[j])
        peak = next(s.v2[i] for i in s.rows("pulse_peak") if s.t[i] >= s.t[j])
        end_hold = s.t[pulse] + (p["peak"] - p["base"]) / p["rise"] + p["hold"]
        c = conditioning_at(s, end_hold)
        truths.append(100 * s.u(peak) * (1 - s.sim["cpm_efficiency"] * c))
    return float(np.mean(truths))


def cpm(s):
    ts_c = s.v[s.mark("cpm:ts_c")]
    got, truth = {}, {}
    labels = [l for l in ("cpm:before", "cpm:during", "cpm:after")
              if s.rows("mark", l)]
    for label in labels:
        js = block(s, label)
        got[label] = float(np.mean([s.v2[j] for j in js]))
        truth[label] = cpm_block_truth(s, js)
    cond = "cpm:during" if "cpm:during" in got else "cpm:after"
    index = got[cond] - got["cpm:before"]           # CPM_abs, §6.3
    late = got["cpm:after"] - got["cpm:before"]
    t_index = truth[cond] - truth["cpm:before"]
    t_late = truth["cpm:after"] - truth["cpm:before"]
    # Tolerance: two mean ratings, each rating_sd noise / sqrt(pulses)
    # (3 sd of the difference) and rounded (0.5 each); the peak of each TS
    # read back to 0.1 degC, at the curve's slope.
    n = min(len(block(s, l)) for l in labels)
    sd = s.sim["rating_sd"]
    tol = 3 * math.sqrt(2 / n) * sd + 1.0 + 0.1 * s.slope(ts_c)
    print(f"  {s.profile:10s} TS {ts_c:.2f} degC, ratings " +
          ", ".join(f"{l[4:]} {got[l]:.1f}" for l in labels))
    near("CPM_abs", s.profile, index, t_index, tol)
    near("CPM_late", s.profile, late, t_late, tol)
    pct = 100 * index / got["cpm:before"] if got["cpm:before"] else float("nan")
    print(f"  {s.profile:10s} CPM_pct      {pct:8.1f} %")
    return index


# ------------------------------------------------------------------- OA

GRID_S = 0.1      # the common grid both traces are resampled onto
SMOOTH_S = 1.0    # moving average before the extreme is taken, see oa()


def trace(s, label, span_s):
    """The slider over [mark, mark + span_s], on the mark-relative grid."""
    t0 = s.t[s.mark(label)]
    grid = np.arange(0.0, span_s + GRID_S / 2, GRID_S)
    return grid, np.interp(t0 + grid, s.rating_t, s.rating_v)


def smooth(y):
    k = int(round(SMOOTH_S / GRID_S)) | 1
    w = np.ones(k)
    # Averages over the samples there are: no zeros padded at the ends.
    return np.convolve(y, w, mode="same") / np.convolve(np.ones_like(y), w, mode="same")


def oa_model(s, grid, profile_fn, dt=0.01):
    """The slider the model of simulation.md expects for a plate profile
    (a function of mark-relative time): pain = 100 u(T) (1 - A) with A set
    by falls under 2 degC and fading with oa_tau_s, seen through the
    slider's first-order lag rating_tau_s."""
    depth, tau_a, tau_r = s.sim["oa_depth"], s.sim["oa_tau_s"], s.sim["rating_tau_s"]
    ts = np.arange(0.0, grid[-1] + dt, dt)
    a, top, prev, y, ys = 0.0, None, profile_fn(0.0), 0.0, []
    for t in ts:
        temp = profile_fn(t)
        a *= math.exp(-dt / tau_a)
        if temp < prev - 1e-9:
            top = prev if top is None else top
            fall = top - temp
            if fall < 2 and s.u(top) > 0:
                a = max(a, depth * min(fall, 1.0))
        else:
            top = None
        prev = temp
        pain = 100 * s.u(temp) * (1 - a)
        y += (pain - y) * (1 - math.exp(-dt / tau_r))
        ys.append(y)
    return np.interp(grid, ts, np.array(ys))


def piecewise(points):
    """A plate profile through (time, degC) corners."""
    tt = np.array([p[0] for p in points])
    cc = np.array([p[1] for p in points])
    return lambda t: float(np.interp(t, tt, cc))


def oa(s):
    mo, mc = s.mark("oa:offset"), s.mark("oa:control")
    to_t2, to_t3 = s.v[mo], s.v2[mo]
    check((s.v[mc], s.v2[mc]) == (to_t2, to_t3),
          "control and offset marks give different offsets")
    t_c, step = s.v[s.mark("oa:t_c")], s.v2[s.mark("oa:t_c")]
    span = to_t3 + step + 20.0
    grid, off = trace(s, "oa:offset", span)
    _, ctl = trace(s, "oa:control", span)
    t3 = (grid >= to_t3) & (grid <= span)
    # OA_abs (§6.4): control minus offset, time-matched on the
    # mark-relative grid, at its largest over T3 (the offset trace's
    # minimum relative to the control): positive = analgesia, the sign of
    # simulation.md's truth table.
    index = float(np.max(smooth(ctl - off)[t3]))
    at_min = at_offset_min(ctl, off, t3)
    # The truth: the model run on the commanded profiles (the first
    # segment's start is the baseline the trial started from).
    base = float(np.interp(s.t[mo], *plate(s)))
    rise = to_t2 - 5.0
    prof_off = piecewise([(0, base), (rise, t_c), (to_t2, t_c),
                          (to_t2 + step, t_c + 1), (to_t3, t_c + 1),
                          (to_t3 + step, t_c), (span, t_c)])
    prof_ctl = piecewise([(0, base), (rise, t_c), (span, t_c)])
    m_off, m_ctl = oa_model(s, grid, prof_off), oa_model(s, grid, prof_ctl)
    truth = float(np.max(smooth(m_ctl - m_off)[t3]))
    t_at_min = at_offset_min(m_ctl, m_off, t3)
    pain_truth = 100 * s.u(t_c) * s.sim["oa_depth"]
    # Tolerance: each slider sample has rating_sd noise and is rounded; the
    # 1 s average over 50 Hz samples leaves sd*sqrt(2/50) on the difference,
    # and the largest of ~200 grid points of it sits up to ~3 of those above
    # the mean: 3*sd*sqrt(2/50) + 0.5 for the rounding bias of each trace.
    # The model's own approximations (plate lag of 50 ms, the step's 10 ms
    # rounding, the plate read back to 0.1 degC at T) add 10%.
    sd = s.sim["rating_sd"]
    tol = 3 * sd * math.sqrt(2 / 50) + 0.5 + 0.1 * truth + 0.1 * s.slope(t_c) * 0.1
    print(f"  {s.profile:10s} T {t_c:.1f} degC: OA on the pain {pain_truth:.1f} "
          f"(depth x pain at T), on the slider:")
    near("OA_abs", s.profile, index, truth, tol)
    near("OA_abs_min", s.profile, at_min, t_at_min, tol)
    return index


def at_offset_min(ctl, off, t3):
    """The variant of docs/indices.md (oa.abs_min): control − offset at
    the time of the offset trace's minimum over T3 (both smoothed)."""
    so, sc = smooth(off)[t3], smooth(ctl)[t3]
    k = int(np.argmin(so))
    return float(sc[k] - so[k])


def plate(s):
    with h5py.File(s.path, "r") as f:
        return f["temperature/t_s"][()], f["temperature/measured_c"][()]


def oa_timing(s):
    """The marks' offsets are where the plate does turn: its readback
    starts to rise at mark + s_to_t2 and to fall at mark + s_to_t3."""
    tt, cc = plate(s)
    t_c = s.v[s.mark("oa:t_c")]
    mo = s.mark("oa:offset")
    t0, to_t2, to_t3 = s.t[mo], s.v[mo], s.v2[mo]
    up = tt[(tt > t0 + to_t2 - 1) & (cc > t_c + 0.3)][0] - t0
    down = tt[(tt > t0 + to_t3 - 1) & (cc < t_c + 0.7)][0] - t0
    # 0.3 degC of a 5 degC/s step is 60 ms, plus the plate's 50 ms lag.
    print(f"  {s.profile:10s} plate 0.3 degC into the up-step at {up:.2f} s "
          f"(mark {to_t2:.2f}), into the down-step at {down:.2f} s (mark {to_t3:.2f})")
    check(0 < up - to_t2 < 0.2 and 0 < down - to_t3 < 0.2,
          "the plate does not turn where the marks say")


# ---------------------------------------------------------------- levels

def levels(s):
    for test, truth in (("CDT", 32.0 - s.sim["cdt_delta_c"]),
                        ("WDT", 32.0 + s.sim["wdt_delta_c"])):
        got = s.v[s.mark("levels:" + test)]
        # §7.2: the run stops when the step falls below min_step (0.25);
        # the threshold is the middle of the last NO and YES levels, a
        # final step apart, so a noise-free subject is placed within half
        # of it, 0.125; each answer's detect_sd_c noise can move the last
        # bracket by about one sd more.
        tol = 0.125 + 3 * s.sim["detect_sd_c"] + 1e-9
        near(test, s.profile, got, truth, tol)


def main():
    kind, files = sys.argv[1], sys.argv[2:]
    sessions = []
    for p in files:
        sessions.append(Session(p))
    if kind == "levels":
        levels(sessions[0])
        return
    fn = {"tsp": tsp, "cpm": cpm, "cpm-sequential": cpm, "oa": oa}[kind]
    h, z = sessions
    check(h.profile == "healthy" and z.profile == "sensitized",
          "give the healthy file first, then the sensitized one")
    if kind == "oa":
        oa_timing(h)
    ih, iz = fn(h), fn(z)
    # The documented direction (simulation.md): the sensitized profile
    # sums more, has no CPM, and less offset analgesia.
    if kind == "tsp":
        check(iz > ih + 5, f"TSP_diff sensitized {iz} not above healthy {ih}")
    elif kind == "cpm":
        check(ih < -8 and abs(iz) < 4 and iz > ih + 8,
              f"CPM_abs healthy {ih:.1f}, sensitized {iz:.1f}")
    elif kind == "cpm-sequential":
        # The conditioning has begun to fade by the after-TS (cpm_tau_s).
        check(ih < -4 and abs(iz) < 4 and iz > ih + 4,
              f"CPM_abs healthy {ih:.1f}, sensitized {iz:.1f}")
    else:
        check(ih > iz + 2, f"OA_abs healthy {ih:.1f} not above sensitized {iz:.1f}")
    print(f"{kind}: healthy {ih:.2f}, sensitized {iz:.2f}: separated, as documented")


if __name__ == "__main__":
    main()
