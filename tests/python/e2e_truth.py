#!/usr/bin/python3
"""Compare a simulated session's recorded thresholds with the virtual
participant's configured truth (stored in /simulation), and the z-score
signs with what the profile is built to show.

Ramped thresholds include the reaction time (qst-domain.md §7.1): the
expected value is the true threshold moved by rate x mean RT in the ramp's
direction. Tolerances come from the profile's own noise figures.
"""
import math
import sys

import h5py
import numpy as np
import pandas as pd


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)



def main(path):
    problems = []
    with h5py.File(path, "r") as f:
        truth = {k: float(v) for k, v in f["simulation"].attrs.items()
                 if isinstance(v, (float, np.floating, int, np.integer))}
        profile = text(f["simulation"].attrs["participant_profile"])
        trials = pd.DataFrame({k: f["trials"][k][()] for k in f["trials"]})
        names = list(f["lookup/test_names"].asstr()[()])
        trials["name"] = [names[c] for c in trials["test"]]
        an = f["analysis"]
        analysis = {text(p): (float(z), int(a)) for p, z, a in
                    zip(an["param"][()], an["z"][()], an["abnormal"][()])}

    rt, rt_sd = truth["rt_mean_s"], truth["rt_sd_s"]
    sd_d, sd_p = truth["detect_sd_c"], truth["pain_sd_c"]

    def check(name, values, expected, sd_thr, rate=1.0):
        n = len(values)
        if n == 0:
            problems.append(f"{name}: no trials")
            return
        tol = 3.0 * math.hypot(sd_thr, rate * rt_sd) / math.sqrt(n) + 0.2
        got = float(np.mean(values))
        status = "ok" if abs(got - expected) <= tol else "MISMATCH"
        print(f"{profile:13s} {name:4s} mean {got:7.3f}  expected {expected:7.3f} "
              f"+- {tol:.3f}  {status}")
        if status != "ok":
            problems.append(f"{name}: {got:.3f} vs truth-derived {expected:.3f} +- {tol:.3f}")

    def sel(name):
        return trials[trials["name"] == name]

    cdt = sel("CDT")
    check("CDT", (cdt["value_measured"] - cdt["baseline_c"]).to_numpy(),
          -(truth["cdt_delta_c"] + rt), sd_d)
    wdt = sel("WDT")
    check("WDT", (wdt["value_measured"] - wdt["baseline_c"]).to_numpy(),
          truth["wdt_delta_c"] + rt, sd_d)
    tsl = sel("TSL").sort_values("trial_id")
    warm = tsl[tsl["direction"] > 0]["value_measured"].to_numpy()
    cold = tsl[tsl["direction"] < 0]["value_measured"].to_numpy()
    check("TSL", np.abs(warm - cold), truth["tsl_c"] + rt, sd_d * math.sqrt(2))
    check("CPT", sel("CPT")["value_measured"].to_numpy(), truth["cpt_c"] - rt, sd_p)
    check("HPT", sel("HPT")["value_measured"].to_numpy(), truth["hpt_c"] + rt, sd_p)

    cold_q = tsl[tsl["direction"] < 0]["quality"].to_numpy()
    phs = int(np.sum(cold_q >= 2))  # warm, hot or burning on a cold ramp
    if truth["phs_probability"] == 0 and phs != 0:
        problems.append(f"PHS {phs} but the participant never has PHS")

    expect = {
        "healthy": {},
        "hyperalgesic": {"CPT": +1, "HPT": +1},
        "hypoesthetic": {"CDT": -1, "WDT": -1, "TSL": -1},
    }[profile]
    for param, sign in expect.items():
        z, abnormal = analysis[param]
        print(f"{profile:13s} {param:4s} z {z:+.2f} abnormal {abnormal:+d} (expected {sign:+d})")
        if abnormal != sign:
            problems.append(f"{param}: abnormal {abnormal} (z {z:+.2f}), expected {sign:+d}")
    if profile == "healthy":
        for param in ("CDT", "WDT", "TSL", "CPT", "HPT"):
            z, abnormal = analysis[param]
            if abnormal != 0:
                problems.append(f"healthy participant but {param} z {z:+.2f}")

    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
