"""Compare the trials of two session files (issue 5): a run over real
transports against the in-process simulation of the same participant seed.

usage: compare_sessions.py OVER_PORTS.h5 IN_PROCESS.h5 TOLERANCE_C

Both must hold the same trials (test, repetition, direction, key) in the
same order, and every measured threshold must agree within TOLERANCE_C.
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


def main():
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
