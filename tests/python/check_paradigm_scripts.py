#!/usr/bin/env python3
"""`qst analyze` on sessions of the standard paradigm scripts
(protocols/cpm.lua, protocols/offset_analgesia.lua; docs/paradigms.md):
the stored /analysis/indices must equal the indices computed here from
the raw /events and /rating through the scripts' marks, and the CPM
script's one-pulse test-stimulus trains must not count as TSP.

usage: check_paradigm_scripts.py QST CPM.h5 OA.h5
"""
import re
import subprocess
import sys

import h5py
import numpy as np

QST, CPM, OA = sys.argv[1:4]
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)


def analyze(path):
    p = subprocess.run([QST, "analyze", path], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"qst analyze {path}: {p.stderr}")
    with h5py.File(path, "r") as f:
        g = f["analysis/indices"]
        ev = {
            "name": f["lookup/event_code_names"].asstr()[()][f["events/code"][()]],
            "t": f["events/t_s"][()], "v": f["events/value"][()],
            "v2": f["events/value2"][()], "msg": f["events/message"].asstr()[()],
        }
        rating = (f["rating/t_s"][()], f["rating/value"][()])
        rows = [(n, d, v) for n, d, v in zip(g["name"].asstr()[()],
                                             g["detail"].asstr()[()], g["value"][()])]
    return ev, rating, rows


def stored(rows, name, detail=""):
    hits = [v for n, d, v in rows if n == name and detail in d]
    check(len(hits) == 1, f"{len(hits)} rows {name} {detail}")
    return hits[0] if hits else None


def near(a, b, tol=1e-9):
    return a is not None and abs(a - b) <= tol * max(1.0, abs(b))


# ------------------------------------------------------------------ CPM
ev, _, rows = analyze(CPM)
check(not any(n.startswith("tsp.") for n, _, _ in rows),
      "one-pulse CPM test stimuli scored as TSP")
phase, ts = None, {"cpm:before": [], "cpm:during": [], "cpm:after": []}
for name, v2, msg in zip(ev["name"], ev["v2"], ev["msg"]):
    if name == "mark":
        phase = msg if msg in ts else (phase if msg == "cpm:ts_c" else None)
    elif name == "rating" and phase:
        ts[phase].append(v2)
b, d, a = (np.mean(ts[k]) for k in ("cpm:before", "cpm:during", "cpm:after"))
check(near(stored(rows, "cpm.abs"), d - b), "cpm.abs")
check(near(stored(rows, "cpm.pct"), 100 * (d - b) / b), "cpm.pct")
check(near(stored(rows, "cpm.late"), b - a), "cpm.late")

# ------------------------------------------------------------------- OA
ev, (rt, rv), rows = analyze(OA)
idx = [i for i, n in enumerate(ev["name"]) if n == "mark"]


def trial(label):
    i = next(i for i in idx if ev["msg"][i] == label)
    mark = ev["t"][i]
    later = [j for j in idx if j > i] + [
        j for j, n in enumerate(ev["name"]) if n == "session_end"]
    end = ev["t"][min(later)] if later else np.inf
    wave = next(j for j in range(i, len(ev["name"]))
                if ev["name"][j] == "stim_waveform")
    span = sum(float(x) for x in re.findall(r"/([0-9.]+)s", ev["msg"][wave]))
    sel = (rt >= mark) & (rt < end)
    return rt[sel] - mark, rv[sel], ev["v"][i], ev["v2"][i], ev["t"][wave] - mark + span


to, vo, t2, t3, wave_end = trial("oa:offset")
tc, vc, _, _, _ = trial("oa:control")
t3_end = min(to[-1], tc[-1], wave_end)
grid = t3 + 0.1 * np.arange(int(np.floor((t3_end - t3) / 0.1 + 1e-9)) + 1)
off, con = np.interp(grid, to, vo), np.interp(grid, tc, vc)
k = int(np.argmin(off))
check(near(stored(rows, "oa.abs_min"), con[k] - off[k], 1e-6),
      f"oa.abs_min: stored {stored(rows, 'oa.abs_min')}, here {con[k] - off[k]}")
for s in (1, 5):
    want = np.interp(t3 + s, tc, vc) - np.interp(t3 + s, to, vo)
    check(near(stored(rows, "oa.abs", f"+ {s} s"), want, 1e-6), f"oa.abs +{s} s")
t2max = vo[(to >= t2) & (to <= t3)].max()
t3min = vo[(to >= t3) & (to <= t3_end)].min()
check(near(stored(rows, "oa.pct"), 100 * (t2max - t3min) / t2max, 1e-6), "oa.pct")
check(abs(t3_end - (t3 + 0.2 + 20)) < 0.05, f"T3 ends at {t3_end}, not with the waveform")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"paradigm scripts: cpm.abs {d - b:+.2f}, oa.abs_min {con[k] - off[k]:.2f} "
      f"(T3 {t3:.1f}..{t3_end:.1f} s) as stored")
