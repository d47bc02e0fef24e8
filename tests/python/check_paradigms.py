#!/usr/bin/env python3
"""Paradigm indices end to end (tests/integration/paradigm_indices.sh).

Starts from a real TSP session (protocols/tsp_heat.lua), adds a CPM block
and an offset-analgesia pair by the event contract (docs/hdf5-schema.md,
"Paradigm marks") with h5py, runs `qst analyze` and `qst report`, and
checks every index against values computed here from the file's own
events and /rating samples (qst-domain.md §6.1, §6.3, §6.4), the stored
/analysis/indices table, the CSV and JSON outputs and the SVG pages (as
XML). A copy without any paradigm must keep the DFNS-only outputs, and a
damaged /rating must give an error naming it, not a crash.

usage: check_paradigms.py QST TSP.h5 WORKDIR
"""
import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np

QST, TSP, WORK = sys.argv[1:4]
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)


def run(*args, ok=True):
    p = subprocess.run([QST, *args], capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit(f"qst {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
    return p


def near(a, b, tol=1e-9):
    return a is not None and b is not None and abs(a - b) <= tol * max(1, abs(b))


def events(f):
    names = f["lookup/event_code_names"].asstr()[()]
    code = f["events/code"][()]
    return {
        "name": [names[c] if 0 <= c < len(names) else f"code{c}" for c in code],
        "code": code,
        "t": f["events/t_ns"][()] / 1e9,
        "v": f["events/value"][()],
        "v2": f["events/value2"][()],
        "msg": f["events/message"].asstr()[()],
    }


def code_of(f, name, contract):
    names = list(f["lookup/event_code_names"].asstr()[()])
    return names.index(name) if name in names else contract


def append(group, cols):
    """Append rows to every column of a recorder table."""
    n = len(next(iter(cols.values())))
    for k, vals in cols.items():
        d = group[k]
        old = d.shape[0]
        d.resize((old + n,))
        d[old:] = vals
    return n


def add_events(f, rows):
    """rows: (t_s, code, value, value2, message)"""
    g = f["events"]
    append(g, {
        "t_ns": [round(r[0] * 1e9) for r in rows],
        "t_s": [r[0] for r in rows],
        "code": [r[1] for r in rows],
        "source": [1] * len(rows),
        "trial": [-1] * len(rows),
        "value": [r[2] for r in rows],
        "value2": [r[3] for r in rows],
        "message": [r[4] for r in rows],
    })


def add_rating(f, t, v):
    append(f["rating"], {
        "t_ns": [round(x * 1e9) for x in t], "t_s": list(t),
        "value": list(v), "raw": [int(x) for x in v],
    })


def stored(path):
    with h5py.File(path, "r") as f:
        if "analysis/indices" not in f:
            return None
        g = f["analysis/indices"]
        names = g["name"].asstr()[()]
        return {
            (str(n), int(i), str(d)): float(v)
            for n, i, d, v in zip(names, g["instance"][()],
                                  g["detail"].asstr()[()], g["value"][()])
        }, g


def value(rows, name, inst=1, detail=""):
    for (n, i, d), v in rows.items():
        if n == name and i == inst and detail in d:
            return v
    problems.append(f"no stored row {name} #{inst} {detail}")
    return None


# ------------------------------------------------------------ TSP alone
tsp = os.path.join(WORK, "tsp_only.h5")
shutil.copy(TSP, tsp)
out = run("analyze", tsp).stdout
check("Sensitization indices" in out, "analyze output lacks the indices section")
with h5py.File(tsp, "r") as f:
    ev = events(f)
r = {int(k): v2 for n, k, v2 in zip(ev["name"], ev["v"], ev["v2"]) if n == "rating"}
R = [r[k] for k in sorted(r)]
rows, _ = stored(tsp)
check(near(value(rows, "tsp.diff"), R[-1] - R[0]), "tsp.diff")
check(near(value(rows, "tsp.max"), max(R) - R[0]), "tsp.max")
check(near(value(rows, "tsp.from_min"), R[-1] - min(R)), "tsp.from_min")
check(near(value(rows, "tsp.ratio"), R[-1] / R[0]), "tsp.ratio")
check(f"tsp.diff" in out and f"{R[-1] - R[0]:.4g}" in out,
      "analyze text lacks the tsp.diff value")

# ------------------------------------------------- CPM and OA appended
full = os.path.join(WORK, "full.h5")
shutil.copy(TSP, full)
before, during, after = [62, 58, 61], [41, 47], [52, 50]
T2, T3 = 5.0, 10.0


END = 30.0  # the waveform's end: the slider rests at 0 after it


def offset_fn(t):
    return np.interp(t, [0, T2 - 0.01, T2, T3, 12, 20, END, END + 0.01, 40],
                     [50, 50, 62, 62, 41, 50, 50, 0, 0])


def control_fn(t):
    return np.interp(t, [0, END, END + 0.01, 40], [50, 50, 0, 0])


with h5py.File(full, "r+") as f:
    mark = code_of(f, "mark", 35)
    rating = code_of(f, "rating", -1)
    t0 = float(f["events/t_s"][-1]) + 10
    rows_ev = [(t0, mark, 46.0, math.nan, "cpm:ts_c"),
               (t0 + 1, mark, math.nan, math.nan, "cpm:before")]
    rows_ev += [(t0 + 2 + i, rating, 1, x, "") for i, x in enumerate(before)]
    cond = code_of(f, "condition", 36)
    rows_ev += [(t0 + 9, cond, 10.0, 1.0, "")]
    rows_ev += [(t0 + 10, mark, math.nan, math.nan, "cpm:during")]
    rows_ev += [(t0 + 11 + i, rating, 1, x, "") for i, x in enumerate(during)]
    rows_ev += [(t0 + 15, cond, 10.0, 0.0, "")]
    rows_ev += [(t0 + 20, mark, math.nan, math.nan, "cpm:after")]
    rows_ev += [(t0 + 21 + i, rating, 1, x, "") for i, x in enumerate(after)]
    m_off, m_con = t0 + 40, t0 + 90
    wave = code_of(f, "stim_waveform", 29)
    rows_ev += [(m_off, mark, T2, T3, "oa:offset"),
                (m_off, wave, 51, 3, "waveform: 50.0/5.000s 51.0/5.000s 50.0/20.000s"),
                (m_con, mark, T2, T3, "oa:control"),
                (m_con, wave, 50, 1, "waveform: 50.0/30.000s"),
                (m_con + 45, mark, math.nan, math.nan, "end of OA")]
    add_events(f, rows_ev)
    # an eVAS at ~7 Hz with its own clock in each trial
    to = np.arange(0.0, 35.0, 0.15)
    tc = np.arange(0.07, 33.0, 0.13)
    add_rating(f, np.concatenate([m_off + to, m_con + tc]),
               np.concatenate([offset_fn(to), control_fn(tc)]))
run("analyze", full)
rows, g = stored(full)
b, d, a = np.mean(before), np.mean(during), np.mean(after)
check(near(value(rows, "cpm.abs"), d - b), "cpm.abs")
check(near(value(rows, "cpm.pct"), 100 * (d - b) / b), "cpm.pct")
check(near(value(rows, "cpm.inhibition_positive"), b - d), "cpm.inhibition_positive")
check(near(value(rows, "cpm.early"), b - d), "cpm.early")
check(near(value(rows, "cpm.late"), b - a), "cpm.late")
sem = np.std(before, ddof=1)
want = 1 if b - d > 2 * sem else -1 if b - d < -2 * sem else 0
check(near(value(rows, "cpm.responder"), want), "cpm.responder")
# OA, time matched on the mark clock, T3 to the end of the waveform
t3_end = min(to[-1], tc[-1], END)
grid = T3 + 0.1 * np.arange(int(math.floor((t3_end - T3) / 0.1 + 1e-9)) + 1)
off = np.interp(grid, to, offset_fn(to))
k = int(np.argmin(off))
con = np.interp(grid, tc, control_fn(tc))
check(near(value(rows, "oa.abs_min"), con[k] - off[k], 1e-6), "oa.abs_min")
for s in (1, 5):
    want = (np.interp(T3 + s, tc, control_fn(tc))
            - np.interp(T3 + s, to, offset_fn(to)))
    check(near(value(rows, "oa.abs", 1, f"+ {s} s"), want, 1e-6), f"oa.abs +{s} s")
raw = offset_fn(to)
t2max = raw[(to >= T2) & (to <= T3)].max()
t3min = raw[(to >= T3) & (to <= t3_end)].min()
check(near(value(rows, "oa.pct"), 100 * (t2max - t3min) / t2max, 1e-6), "oa.pct")
with h5py.File(full, "r") as f:
    gi = f["analysis/indices"]
    n = gi["value"].shape[0]
    for col in gi.attrs["colnames"]:
        check(gi[col].shape == (n,), f"/analysis/indices/{col} length")
    check(list(gi.attrs["flag_names"])[:2] == ["undefined", "empty"], "flag_names attribute")
    check(all(s for s in gi["formula"].asstr()[()]), "empty formula")
    check(all(s for s in gi["sign_convention"].asstr()[()]), "empty sign convention")
    check(set(gi["paradigm"].asstr()[()]) == {"tsp", "cpm", "oa"}, "paradigms")

# ---------------------------------------------------- report outputs
svg = os.path.join(WORK, "full.svg")
p = run("report", full, "--svg", svg, "--csv")
dfns, _, ix = p.stdout.partition("\n\n")
check(len(list(csv.DictReader(io.StringIO(dfns)))) == 13, "CSV DFNS table")
ixrows = list(csv.DictReader(io.StringIO(ix)))
check(len(ixrows) == n, f"CSV has {len(ixrows)} index rows, file {n}")
for row in ixrows:
    if row["value"]:
        want = value(rows, row["index"], int(row["instance"]), row["detail"])
        check(near(float(row["value"]), want), f"CSV {row['index']}")
for par in ("tsp", "cpm", "oa"):
    page = os.path.join(WORK, f"full-{par}.svg")
    check(os.path.exists(page), f"no {page}")
    root = ET.parse(page).getroot()
    labels = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")
              if "index-label" in t.get("class", "")]
    want = {"tsp": "tsp.diff = ", "cpm": "cpm.abs = ", "oa": "oa.abs_min = "}[par]
    check(any(want in s for s in labels), f"{par} page lacks '{want}': {labels}")
    check(root.get("class") == f"paradigm paradigm-{par}", f"{par} page class")
    bands = [e for e in root.iter("{http://www.w3.org/2000/svg}rect")
             if e.get("class") == "conditioning"]
    check(len(bands) == (par == "cpm"), f"{par} page: {len(bands)} conditioning bands")
j = json.loads(run("report", full, "--svg", svg, "--overwrite", "--json").stdout)
check(len(j.get("indices", [])) == n, "JSON indices")
check(len(j["rows"]) == 13, "JSON rows")

# ------------------------------------------------- no paradigm at all
none = os.path.join(WORK, "none.h5")
shutil.copy(TSP, none)
with h5py.File(none, "r+") as f:
    log = code_of(f, "log", 15)
    code = f["events/code"][()]
    names = f["lookup/event_code_names"].asstr()[()]
    code[[names[c] == "train_start" for c in code]] = log
    f["events/code"][...] = code
out = run("analyze", none).stdout
check("Sensitization indices" not in out, "no paradigm, yet an indices section")
check(stored(none) is None, "no paradigm, yet /analysis/indices")
p = run("report", none, "--svg", os.path.join(WORK, "none.svg"), "--json")
check("indices" not in json.loads(p.stdout), "no paradigm, yet JSON indices")
check(not any(n.startswith("none-") for n in os.listdir(WORK)), "no paradigm, yet a page")

# ---------------------------------------------------- damaged /rating
bad = os.path.join(WORK, "bad.h5")
shutil.copy(full, bad)
with h5py.File(bad, "r+") as f:
    del f["rating/value"]
    f["rating/value"] = np.array([b"x"] * 3)
before_bytes = open(bad, "rb").read()
p = run("analyze", bad, ok=False)
check(p.returncode > 0 and "/rating/value" in p.stderr,
      f"damaged /rating: exit {p.returncode}, {p.stderr!r}")
check(open(bad, "rb").read() == before_bytes, "a failed analyze changed the file")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"paradigms: {n} indices checked (tsp, cpm, oa), csv/json/svg, none, damaged")
