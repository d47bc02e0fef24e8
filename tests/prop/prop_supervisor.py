#!/usr/bin/python3
"""Property test: whatever a protocol script asks, the thermode is never
told anything outside the safety supervisor's rules.

Generates N random protocol scripts (seeded): qst.limits, qst.tsl and
qst.wait calls in random order with random, boundary, out-of-range and
adversarial parameters, some wrapped in pcall. Each runs on the simulated
station on the virtual clock with --skip-check, so the runtime supervisor
is all that stands between the script and the wire, and writes a wire log.
Every command the host sent to the TCS II is then checked against the
rules, read from the wire log with the documented TCS II syntax
(tests/python/wire_log.py) and not from the code under test:

  vocabulary   only H ? E (identify), Om, N, C, V, R, D, L, A
  N            baseline 20.0-40.0 °C               (supervisor, §8.1)
  Om           device clamp at most 50.0 °C        (supervisor, §8.2 interlock 1)
  at each L    C, V, R, D all sent since the last L, all for every zone (0);
               target 0.0-50.0 °C                  (§8.2 interlock 1)
               rise and return rate 0.1-10.0 °C/s  (station rate ceiling)
               target >= 48 °C: hold (D minus the rise from the last
               readback) at most 30 s              (§8.2 interlock 2)

and on healthy devices no watchdog may fire (no device_fault event): a
false alarm would stop real sessions.

Usage: prop_supervisor.py [--n 200] [--seed 1] [--jobs 2] [--keep DIR]
Needs QST (the qst binary) in the environment. Exits 1 on any violation,
or when too few scripts reached the thermode or the supervisor for the
run to mean anything.
"""
import argparse
import concurrent.futures
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import h5py  # noqa: E402
import wire_log  # noqa: E402

MAX_C, MIN_C = 50.0, 0.0
MAX_RATE = 10.0
NEUTRAL = (20.0, 40.0)
LONG_HOLD_C, LONG_HOLD_S = 48.0, 30.0
# The queries the driver asks on its own (devices.md §1.3: `P` read-back of
# the settings, `Q` error state, `K` probe buttons) change nothing.
VOCABULARY = {"H", "?", "E", "Om", "N", "C", "V", "R", "D", "L", "A",
              "P", "Q", "K"}

# ------------------------------------------------------------ generator


# Values the engine itself rejects (a script error before the station sees
# anything): rare, so most scripts reach the supervisor.
ABSURD = ["0/0", "math.huge", "-math.huge", "1e9", "'hot'", "-1", "0"]
WILD = 0.05


def pick(rng, *makers):
    return rng.choice(makers)()


def temperature(rng, lo=-20.0, hi=80.0):
    """Mostly plausible, often at or just past a limit, within [lo, hi]."""
    if rng.random() < WILD:
        return rng.choice(ABSURD)
    edges = [v for v in (0.0, 50.0, 49.99, 50.01, 50.05, -0.01, -0.05, 48.0,
                         47.99, 20.0, 40.0, 19.99, 40.01, 32.0, 55.0, -5.0)
             if lo <= v <= hi]
    return pick(rng,
                lambda: round(rng.uniform(max(lo, 20), min(hi, 45)), 2),
                lambda: round(rng.uniform(max(lo, 0), min(hi, 50)), 1),
                lambda: rng.choice(edges or [round((lo + hi) / 2, 1)]),
                lambda: round(rng.uniform(lo, hi), 1))


def rate(rng):
    if rng.random() < WILD:
        return rng.choice(ABSURD)
    return pick(rng,
                lambda: round(rng.uniform(0.5, 8), 2),
                lambda: rng.choice([10.0, 10.01, 9.99, 10.04, 10.05, 20.0,
                                    0.05, 0.04, 0.06, 0.15, 0.25, 1.0, 5.0]),
                lambda: round(rng.uniform(0.3, 20), 3))


def lua(v):
    return v if isinstance(v, str) else repr(v)


def table(fields):
    return "{ " + ", ".join(f"{k} = {lua(v)}" for k, v in fields) + " }"


def count(rng, usual):
    return rng.choice([0, 21, -1]) if rng.random() < WILD else usual


def limits_call(rng):
    test = rng.choice(["CDT", "WDT", "CPT", "HPT"])
    cooling = test in ("CDT", "CPT")
    fields = [("test", f'"{test}"' if rng.random() > WILD else '"XYZ"')]
    base = temperature(rng, 10, 45) if rng.random() < 0.4 else None
    if base is not None:
        fields.append(("baseline", base))
    b = base if isinstance(base, float) else 32.0
    if rng.random() < 0.8:  # a cut-off on the test's side, maybe past a limit
        fields.append(("cutoff", temperature(rng, -20, b - 0.5) if cooling
                       else temperature(rng, b + 0.5, 80)))
    elif rng.random() < 0.5:
        fields.append(("cutoff", temperature(rng)))
    for k in ("rate", "return_rate"):
        if rng.random() < 0.6:
            fields.append((k, rate(rng)))
    fields.append(("repetitions", count(rng, rng.choice([1, 1, 2]))))
    fields.append(("isi", count(rng, rng.choice([0, 0.5, 1, 2]))))
    if rng.random() < 0.3:
        fields.append(("isi_jitter", rng.choice([0, 1])))
    rng.shuffle(fields)
    return "qst.limits", table(fields)


def tsl_call(rng):
    fields = []
    base = temperature(rng, 10, 45) if rng.random() < 0.4 else None
    b = base if isinstance(base, float) else 32.0
    if base is not None:
        fields.append(("baseline", base))
    if rng.random() < 0.7:
        fields.append(("lower_cutoff", temperature(rng, -20, b - 0.5)))
    if rng.random() < 0.7:
        fields.append(("upper_cutoff", temperature(rng, b + 0.5, 80)))
    for k in ("rate", "return_rate"):
        if rng.random() < 0.6:
            fields.append((k, rate(rng)))
    fields.append(("pairs", count(rng, 1)))
    fields.append(("isi", rng.choice([0, 1, 2])))
    rng.shuffle(fields)
    return "qst.tsl", table(fields)


def script(rng, i):
    lines = [f'qst.protocol{{ name = "prop {i}", version = "1", '
             f'devices = {{ "thermal", "response" }} }}']
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.15:
            lines.append(f"qst.wait({rng.choice([0, 0.5, 2, 5])})")
            continue
        fn, args = (limits_call if kind < 0.75 else tsl_call)(rng)
        if rng.random() < 0.3:  # a script that catches refusals and goes on
            lines.append(f"print(pcall({fn}, {args}))")
        else:
            lines.append(f"{fn}{args}")
    return "\n".join(lines) + "\n"

# -------------------------------------------------------------- checker


def violations(chunks):
    """(commands checked, launches checked, [violations])."""
    cmds = wire_log.tcs2_commands(chunks)
    frames = wire_log.tcs2_frames(chunks)
    bad, fresh, launches = [], {}, 0
    for c in cmds:
        letter = c.text[:2] if c.text.startswith("O") else c.text[:1]
        arg = c.text[len(letter):]
        where = f"{c.text} at {c.t_ns / 1e9:.3f} s"
        if letter not in VOCABULARY:
            bad.append(f"{where}: not a command the station may send")
        elif letter == "N" and not NEUTRAL[0] <= int(arg) / 10 <= NEUTRAL[1]:
            bad.append(f"{where}: baseline outside {NEUTRAL}")
        elif letter == "Om" and int(arg) / 10 > MAX_C:
            bad.append(f"{where}: device maximum above {MAX_C}")
        elif letter in "CVRD":
            if arg[0] != "0":
                bad.append(f"{where}: addressed to one zone only")
            fresh[letter] = int(arg[1:])
        elif letter == "L":
            launches += 1
            bad += check_launch(fresh, frames, c.t_ns, where)
            fresh = {}
    return len(cmds), launches, bad


def check_launch(p, frames, t_ns, where):
    missing = [k for k in "CVRD" if k not in p]
    if missing:
        return [f"{where}: launched without fresh {''.join(missing)}"]
    bad = []
    target, rise, back = p["C"] / 10, p["V"] / 10, p["R"] / 10
    if not MIN_C <= target <= MAX_C:
        bad.append(f"{where}: target {target} °C outside {MIN_C}-{MAX_C}")
    for name, r in (("rise", rise), ("return", back)):
        if not 0 < r <= MAX_RATE:
            bad.append(f"{where}: {name} rate {r} °C/s above {MAX_RATE}")
    if target >= LONG_HOLD_C:
        before = [f for t, f in frames if t <= t_ns]
        start = sum(before[-1][1:]) / 5 if before else 32.0
        hold_s = p["D"] / 1000 - abs(target - start) / rise
        if hold_s > LONG_HOLD_S + 0.002:
            bad.append(f"{where}: {hold_s:.1f} s at {target} °C")
    return bad

# ---------------------------------------------------------------- runner


def run_one(qst, work, i, seed):
    rng = random.Random(seed * 100003 + i)
    text = script(rng, i)
    base = os.path.join(work, f"s{i:03d}")
    with open(base + ".lua", "w") as f:
        f.write(text)
    p = subprocess.run([qst, "run", base + ".lua", "--skip-check",
                        "--subject", "S01", "--sex", "F", "--age", "35",
                        "--site", "hand", "--seed", str(seed + i),
                        "--clock", "virtual", "--out", base + ".h5",
                        "--wire-log", base + ".wire"],
                       capture_output=True, text=True, timeout=120)
    return i, text, p.returncode, p.stderr


def outcome(rc, err, h5):
    faults = []
    if os.path.exists(h5):
        with h5py.File(h5, "r") as f:
            names = f["lookup/event_code_names"].asstr()[()]
            e = f["events"]
            faults = [m for c, m in zip(e["code"][()], e["message"].asstr()[()])
                      if names[c] == "device_fault"]
    if faults:
        return "device fault", faults
    if "refused by the safety supervisor" in err:
        return "refused by the supervisor", []
    if rc == 0:
        return "ran", []
    if "thermode refused" in err:
        return "refused by the driver", []
    return f"script error (exit {rc})", []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="keep scripts, logs and files here")
    a = ap.parse_args()
    qst = os.environ["QST"]
    work = a.keep or tempfile.mkdtemp(prefix="qst-prop.")
    os.makedirs(work, exist_ok=True)
    tally, n_cmds, n_launch, failed = {}, 0, 0, []
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        runs = pool.map(lambda i: run_one(qst, work, i, a.seed), range(a.n))
        for i, text, rc, err in runs:
            base = os.path.join(work, f"s{i:03d}")
            kind, faults = outcome(rc, err, base + ".h5")
            tally[kind] = tally.get(kind, 0) + 1
            try:
                c, l, bad = violations(wire_log.read(base + ".wire"))
            except (OSError, ValueError) as e:
                c, l, bad = 0, 0, [f"wire log unreadable: {e}"]
            bad += [f"false alarm on a healthy station: {m}" for m in faults]
            if rc < 0 or "Sanitizer" in err:
                bad.append(f"qst crashed (exit {rc})")
            n_cmds += c
            n_launch += l
            if bad:
                failed.append((i, text, bad))
    for kind, n in sorted(tally.items()):
        print(f"  {n:4d} {kind}")
    print(f"{a.n} scripts, {n_cmds} thermode commands checked "
          f"({n_launch} stimulus launches), {len(failed)} with violations")
    for i, text, bad in failed[:5]:
        print(f"\nscript {i} ({work}/s{i:03d}.lua):\n{text}" +
              "".join(f"  VIOLATION {b}\n" for b in bad[:10]), file=sys.stderr)
    # A generator whose scripts no longer reach the thermode proves nothing.
    starved = n_launch < a.n // 2 or tally.get("refused by the supervisor", 0) < a.n // 10
    if starved:
        print("too few stimuli or refusals: the generator does not exercise "
              "the supervisor", file=sys.stderr)
    if not a.keep and not failed:
        subprocess.run(["rm", "-rf", work])
    return 1 if failed or starved else 0


if __name__ == "__main__":
    sys.exit(main())
