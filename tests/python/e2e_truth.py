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



def main(path, expect_lg=None):
    problems = []
    with h5py.File(path, "r") as f:
        truth = {k: float(v) for k, v in f["simulation"].attrs.items()
                 if isinstance(v, (float, np.floating, int, np.integer))}
        profile = text(f["simulation"].attrs["participant_profile"])
        trials = pd.DataFrame({k: f["trials"][k][()] for k in f["trials"]})
        names = list(f["lookup/test_names"].asstr()[()])
        trials["name"] = [names[c] for c in trials["test"]]
        an = f["analysis"]
        lg_code = text(an.attrs["lg_code"]) if "lg_code" in an.attrs else None
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

    # Mechanical tests, when the protocol ran them (dfns.lua).
    def geo_check(name, truth_mn):
        v = sel(name)["value_measured"].to_numpy()
        if len(v) == 0:
            return
        # Factor-2 stimulus sets: supra- and subthreshold values straddle
        # the 50% point, so their geometric mean lands within one level.
        got = float(np.mean(np.log10(v)))
        ok = abs(got - math.log10(truth_mn)) <= math.log10(2.0)
        print(f"{profile:13s} {name:4s} log10 gm {got:7.3f}  truth {math.log10(truth_mn):7.3f} "
              f"+- 0.301  {'ok' if ok else 'MISMATCH'}")
        if not ok:
            problems.append(f"{name}: geometric mean 10^{got:.3f} vs truth {truth_mn} mN")

    if "mdt_mn" in truth:
        geo_check("MDT", truth["mdt_mn"])
        geo_check("MPT", truth["mpt_mn"])
        vdt = sel("VDT")["value_measured"].to_numpy()
        if len(vdt):
            check("VDT", vdt, min(truth["vdt_eighths"], 8.0), 0.25)
        ppt = sel("PPT")["value_measured"].to_numpy()
        if len(ppt):
            # The operator's ramp (about 50 kPa/s) continues through the RT.
            rate = float(np.mean(sel("PPT")["rate_c_s"].to_numpy()))
            check("PPT", ppt, truth["ppt_kpa"] + rate * rt, truth["pressure_sd_kpa"], rate)

    cold_q = tsl[tsl["direction"] < 0]["quality"].to_numpy()
    phs = int(np.sum(cold_q >= 2))  # warm, hot or burning on a cold ramp
    if truth["phs_probability"] == 0 and phs != 0:
        problems.append(f"PHS {phs} but the participant never has PHS")

    expect = {
        "healthy": {},
        "hyperalgesic": {"CPT": +1, "HPT": +1},
        "hypoesthetic": {"CDT": -1, "WDT": -1, "TSL": -1},
        "mech-hyperalgesic": {"MPT": +1, "MPS": +1, "DMA": +1, "PPT": +1},
    }[profile]
    if "MDT" in analysis and not math.isnan(analysis["MDT"][0]) and profile == "hypoesthetic":
        expect.update({"MDT": -1, "VDT": -1})
    for param, sign in expect.items():
        z, abnormal = analysis[param]
        print(f"{profile:13s} {param:4s} z {z:+.2f} abnormal {abnormal:+d} (expected {sign:+d})")
        if abnormal != sign:
            problems.append(f"{param}: abnormal {abnormal} (z {z:+.2f}), expected {sign:+d}")
    if profile == "healthy":
        for param, (z, abnormal) in analysis.items():
            if abnormal != 0:
                problems.append(f"healthy participant but {param} z {z:+.2f}")

    if expect_lg and lg_code != expect_lg:
        problems.append(f"LG code {lg_code}, expected {expect_lg}")
    elif expect_lg:
        print(f"{profile:13s} LG code {lg_code} (expected {expect_lg})")

    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    lg = sys.argv[sys.argv.index("--expect-lg") + 1] if "--expect-lg" in sys.argv else None
    sys.exit(main(sys.argv[1], lg))
