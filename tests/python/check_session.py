#!/usr/bin/python3
"""Check a qst session file the way an analyst reads it (h5py + pandas).

Usage: check_session.py FILE.h5 [--expect-complete] [--expect-analysis]

Exits 0 and prints a short summary when the file follows
docs/hdf5-schema.md; exits 1 with one message per violation otherwise.
"""
import argparse
import hashlib
import math
import sys

import h5py
import numpy as np
import pandas as pd

SCHEMA_NAME = "qst-session"
SCHEMA_MAJOR = 1
TABLES = ("devices", "temperature", "events", "trials")
LOOKUPS = ("event_code_names", "event_source_names", "test_names",
           "quality_names", "trial_flag_names", "trial_value_units",
           "trial_commanded_units", "trial_level_units", "trial_rate_units")
# Plausible answers per trial unit (docs/hdf5-schema.md, /trials).
# mN reaches one factor-2 level beyond the 0.25..512 set (out_of_range).
VALUE_RANGES = {"degC": (-20, 60), "mN": (0.125, 1024), "NRS": (0, 100),
                "/8": (0, 8), "kPa": (0, 2200)}
META_STR = ("subject_id", "sex", "site", "side", "operator", "protocol_name",
            "protocol_version", "protocol_path", "protocol_sha256",
            "software_version", "station", "clock_source",
            "session_start_utc", "seed")


class Checker:
    def __init__(self):
        self.errors = []

    def fail(self, msg):
        self.errors.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return cond


def decode(col):
    """A column as a pandas-friendly array: vlen strings become str."""
    if h5py.check_string_dtype(col.dtype) is not None:
        return col.asstr()[()]
    return col[()]


def load_table(f, name, c):
    """The table group NAME as a DataFrame, checking column attributes."""
    g = f[name]
    cols = list(g.attrs.get("colnames", []))
    c.check(cols, f"/{name}: no colnames attribute")
    c.check(sorted(cols) == sorted(g.keys()),
            f"/{name}: colnames {cols} differ from members {list(g.keys())}")
    data = {}
    for k in g:
        ds = g[k]
        if not c.check(isinstance(ds, h5py.Dataset) and ds.ndim == 1,
                       f"/{name}/{k}: not a 1-D dataset"):
            continue
        for attr in ("units", "description"):
            v = ds.attrs.get(attr)
            c.check(isinstance(v, str) and v != "",
                    f"/{name}/{k}: missing or non-str '{attr}' attribute")
        data[k] = decode(ds)
    lengths = {k: len(v) for k, v in data.items()}
    if not c.check(len(set(lengths.values())) <= 1,
                   f"/{name}: columns differ in length: {lengths}"):
        return pd.DataFrame()
    return pd.DataFrame({k: data[k] for k in cols if k in data})


def check_lookup(f, df, table, col, c):
    """Every code in df[col] has a name in the lookup its attribute names."""
    path = f[table][col].attrs.get("lookup")
    if not c.check(isinstance(path, str) and path in f,
                   f"/{table}/{col}: lookup attribute missing or dangling"):
        return None
    names = f[path].asstr()[()]
    if col == "flags":
        bad = df[col][(df[col].to_numpy() >> len(names)) != 0]
    else:
        bad = df[col][(df[col] < 0) | (df[col] >= len(names))]
    c.check(bad.empty, f"/{table}/{col}: codes without a name: "
            f"{sorted(set(bad.tolist()))}")
    if col == "flags":
        return None
    return df[col].map(lambda i: names[i] if 0 <= i < len(names) else "?")


def check_root(f, args, c):
    a = f.attrs
    c.check(a.get("schema_name") == SCHEMA_NAME,
            f"root schema_name is {a.get('schema_name')!r}")
    version = a.get("schema_version")
    if c.check(isinstance(version, str), "root schema_version missing"):
        c.check(version.split(".")[0] == str(SCHEMA_MAJOR),
                f"schema_version {version} is not {SCHEMA_MAJOR}.x")
    for k in ("created_utc", "software_version"):
        c.check(isinstance(a.get(k), str), f"root {k} missing or not str")
    complete = a.get("complete")
    c.check(complete in (0, 1), f"root complete is {complete!r}")
    if args.expect_complete:
        c.check(complete == 1, "file is not marked complete")
    return complete


def check_metadata(f, c):
    if not c.check("metadata" in f, "no /metadata group"):
        return {}
    m = dict(f["metadata"].attrs)
    for k in META_STR:
        c.check(isinstance(m.get(k), str),
                f"/metadata {k} missing or not str (got {type(m.get(k))})")
    c.check(m.get("sex") in ("F", "M", ""), f"/metadata sex {m.get('sex')!r}")
    c.check(0 <= int(m.get("age_years", -1)) < 130, "/metadata age_years")
    ds = f["metadata/protocol_text"]
    text = ds.asstr()[()]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    c.check(digest == ds.attrs.get("sha256"),
            "protocol_text SHA-256 differs from its sha256 attribute")
    c.check(digest == m.get("protocol_sha256"),
            "protocol_text SHA-256 differs from /metadata protocol_sha256")
    return m


def check_times(df, name, c):
    if df.empty:
        return
    t = df["t_s"].to_numpy()
    c.check(np.all(np.diff(t) >= 0), f"/{name}/t_s decreases somewhere")
    c.check(np.allclose(t, df["t_ns"].to_numpy() / 1e9, rtol=0, atol=1e-9),
            f"/{name}/t_s does not match t_ns")


def check_trial_values(f, trials, c):
    """value_measured lies in the range of the unit its test records in."""
    ds = f["trials/value_measured"]
    path = ds.attrs.get("units", "").removeprefix("per test: ").split("[")[0]
    if not c.check(path in f, "/trials/value_measured units name no lookup"):
        return
    units = f[path].asstr()[()]
    for unit, rows in trials.groupby(units[trials["test"]]):
        lo, hi = VALUE_RANGES.get(unit, (-math.inf, math.inf))
        v = rows["value_measured"].dropna()
        c.check(((v >= lo) & (v <= hi)).all(),
                f"/trials/value_measured in {unit} outside {lo}..{hi}")


def check_trials(f, trials, c):
    if trials.empty:
        return
    c.check(trials["trial_id"].is_unique, "/trials/trial_id not unique")
    c.check(trials["direction"].isin([-1, 0, 1]).all(),
            "/trials/direction not in {-1, 0, +1}")
    c.check((trials["repetition"] >= 1).all(), "/trials/repetition < 1")
    check_trial_values(f, trials, c)
    lat = trials["latency_s"]
    c.check((lat.isna() | (lat >= 0)).all(), "/trials/latency_s negative")
    c.check((trials["t_stop_ns"] >= trials["t_start_ns"]).all(),
            "/trials t_stop before t_start")
    resp = trials["t_response_ns"] >= 0
    c.check(trials["t_response_s"][~resp].isna().all(),
            "/trials/t_response_s not NaN where there was no response")


def check_analysis(f, c):
    if not c.check("analysis" in f, "no /analysis group"):
        return None
    g = f["analysis"]
    for k in ("ref_table_id", "ref_table_source", "ref_table_sha256",
              "formula_version"):
        c.check(isinstance(g.attrs.get(k), str), f"/analysis {k} missing")
    c.check(len(g.attrs.get("flag_names", [])) > 0,
            "/analysis flag_names missing")
    df = load_table(f, "analysis", c)
    c.check(len(df) == 13, f"/analysis has {len(df)} rows, expected 13")
    return df


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--expect-complete", action="store_true")
    ap.add_argument("--expect-analysis", action="store_true")
    args = ap.parse_args()
    c = Checker()
    try:
        f = h5py.File(args.file, "r")
    except OSError as e:
        print(f"check_session: cannot open {args.file}: {e}", file=sys.stderr)
        return 1
    with f:
        try:
            complete = check_root(f, args, c)
            meta = check_metadata(f, c)
            for lk in LOOKUPS:
                c.check(f"lookup/{lk}" in f, f"/lookup/{lk} missing")
            t = {name: load_table(f, name, c) for name in TABLES
                 if c.check(name in f, f"/{name} missing")}
            if "pressure" in f:  # sessions with an algometer
                t["pressure"] = load_table(f, "pressure", c)
            events, trials = t.get("events"), t.get("trials")
            temp = t.get("temperature")
            for name in ("temperature", "events", "pressure"):
                if t.get(name) is not None:
                    check_times(t[name], name, c)
            if events is not None and not events.empty:
                events["code_name"] = check_lookup(f, events, "events",
                                                   "code", c)
                events["source_name"] = check_lookup(f, events, "events",
                                                     "source", c)
            if trials is not None and not trials.empty:
                trials["test_name"] = check_lookup(f, trials, "trials",
                                                   "test", c)
                trials["quality_name"] = check_lookup(f, trials, "trials",
                                                      "quality", c)
                check_lookup(f, trials, "trials", "flags", c)
                check_trials(f, trials, c)
            analysis = check_analysis(f, c) if args.expect_analysis else None
        except (KeyError, ValueError, TypeError) as e:
            c.fail(f"unexpected layout: {e!r}")
    if c.errors:
        for e in c.errors:
            print(f"check_session: {args.file}: {e}", file=sys.stderr)
        return 1
    n = lambda df: 0 if df is None else len(df)
    print(f"{args.file}: schema {SCHEMA_NAME} {f'complete' if complete else 'INCOMPLETE'}; "
          f"subject {meta.get('subject_id')} ({meta.get('sex')}, "
          f"{meta.get('age_years')} y, {meta.get('site')}); "
          f"protocol {meta.get('protocol_name')}")
    print(f"  {n(t.get('devices'))} devices, {n(temp)} temperature samples, "
          f"{n(t.get('pressure'))} pressure samples, "
          f"{n(events)} events, {n(trials)} trials")
    if trials is not None and not trials.empty:
        summary = trials.groupby("test_name")["value_measured"].agg(
            ["count", "mean"])
        print(summary.to_string())
    if analysis is not None:
        with pd.option_context("display.width", 160,
                               "display.max_columns", 20):
            print(analysis.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
