"""Compare the trials of two session files (issue 5): a run over real
transports against the in-process simulation of the same participant seed.

usage: compare_sessions.py OVER_PORTS.h5 IN_PROCESS.h5 TOLERANCE_C
       compare_sessions.py FAULTED.h5 IN_PROCESS.h5 TOLERANCE_C --fault REGEX WIRE_LOG

Both must hold the same trials (test, repetition, direction, key) in the
same order, and every measured threshold must agree within TOLERANCE_C.
With --fault, FAULTED is a run that a device fault ended: it holds one
device_fault event matching REGEX; the thermode's first command after it
is the abort `A`, then the safe neutral `N320`, and nothing is launched
after; every trial completed before the fault is there and agrees with the
in-process run; the trial running at the fault is kept, aborted, without a
value; and nothing begun after.
The real clock shifts ramps and samples by milliseconds, so exact equality
is not expected; a driver that lost or misread bytes is off by far more.
Prints one line per trial and exits 1 on any difference.
"""
import sys

import h5py
import numpy as np


def trials(path):
    with h5py.File(path, "r") as f:
        t = f["trials"]
        cols = {k: t[k][()] for k in ("test", "repetition", "direction",
                                      "key", "value_measured", "flags")}
        analysed = {}
        if "analysis" in f and "param" in f["analysis"]:
            r = f["analysis"]
            names = [n.decode() if isinstance(n, bytes) else str(n)
                     for n in r["param"][()]]
            analysed = dict(zip(names, r["value_raw"][()]))
    return cols, analysed


ABORTED = 1 << 2  # /lookup/trial_flag_names bit 2


def check_fault(run_path, clean_path, tol, regex, wire_path):
    import re
    import wire_log
    with h5py.File(run_path, "r") as f:
        names = f["lookup/event_code_names"].asstr()[()]
        e = f["events"]
        faults = [(t, m) for t, c, m in zip(e["t_ns"][()], e["code"][()],
                                            e["message"].asstr()[()])
                  if names[c] == "device_fault"]
        run = {k: f["trials"][k][()] for k in ("test", "flags",
                                               "value_measured", "t_start_ns")}
    clean, _ = trials(clean_path)
    if len(faults) != 1 or not re.fullmatch(regex, faults[0][1]):
        print(f"expected one device_fault matching {regex!r}, got {faults}")
        return 1
    at = faults[0][0]
    # The abort goes out before the fault is written down: look from the
    # moment the fault was noticed, a few ms before its event.
    cmds = [c for c in wire_log.tcs2_commands(wire_log.read(wire_path))
            if c.t_ns >= at - 50_000_000]
    # Queries the driver asks on its own (read-back, error state,
    # buttons, temperature) change nothing and may fall anywhere.
    texts = [c.text for c in cmds if c.text[:1] not in "PQKE?H"]
    if texts[:2] != ["A", "N320"] or "L" in texts:
        print(f"thermode commands after the fault: {texts[:6]}")
        return 1
    ok = (run["flags"] & ABORTED) == 0
    n = int(ok.sum())
    if n == 0 or not np.array_equal(run["test"][ok], clean["test"][:n]):
        print(f"completed trials {run['test'][ok]} are not the clean run's first")
        return 1
    diff = np.abs(run["value_measured"][ok] - clean["value_measured"][:n])
    aborted = ~ok
    if aborted.sum() != 1 or not np.isnan(run["value_measured"][aborted][0]) \
            or run["t_start_ns"][aborted][0] > at:
        print("expected one aborted trial, begun before the fault, no value")
        return 1
    print(f"fault at {at / 1e9:.3f} s: {faults[0][1]}; {n} completed trials "
          f"kept (max diff {diff.max():.3f} °C), 1 aborted; A then N320")
    return 0 if diff.max() <= tol else 1


def main():
    if len(sys.argv) == 7 and sys.argv[4] == "--fault":
        return check_fault(sys.argv[1], sys.argv[2], float(sys.argv[3]),
                           sys.argv[5], sys.argv[6])
    ports, inproc, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
    a, a_res = trials(ports)
    b, b_res = trials(inproc)
    ok = True
    if len(a["test"]) != len(b["test"]) or len(a["test"]) == 0:
        print(f"trial counts differ or are zero: {len(a['test'])} vs "
              f"{len(b['test'])}")
        return 1
    for k in ("test", "repetition", "direction", "key", "flags"):
        if not np.array_equal(a[k], b[k]):
            print(f"column {k} differs: {a[k]} vs {b[k]}")
            ok = False
    for i, (x, y) in enumerate(zip(a["value_measured"], b["value_measured"])):
        diff = abs(float(x) - float(y))
        print(f"trial {i}: test {a['test'][i]} over ports {x:.3f} in process "
              f"{y:.3f} diff {diff:.3f}")
        if not diff <= tol:
            ok = False
    for name, value in a_res.items():
        other = b_res.get(name)
        if other is not None and np.isfinite(value):
            print(f"{name}: {value:.3f} vs {other:.3f}")
            if abs(value - other) > tol:
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
