#!/usr/bin/python3
"""Check a `qst report` sensory profile the way an analyst would read it.

Usage: check_report.py PROFILE.svg [--h5 FILE.h5] [--json FILE.json]
                       [--csv FILE.csv] [--expect-lg CODE]

The SVG must be well-formed XML (xml.etree, standard library) with an <svg>
root in the SVG namespace, hold exactly one `mark` group per DFNS parameter
in DFNS order, and show the loss/gain code. With --h5 the marks and the code
are compared with the file's /analysis (h5py); --json and --csv outputs of
`qst report` are checked against it too (json, pandas).
Exits 0 and prints a summary, or 1 with one line per problem.
"""
import argparse
import json
import math
import sys
import xml.etree.ElementTree as ET

DFNS = ["CDT", "WDT", "TSL", "PHS", "CPT", "HPT", "MDT", "MPT", "MPS",
        "DMA", "WUR", "VDT", "PPT"]
SVG_NS = "{http://www.w3.org/2000/svg}"
KINDS = {"loss", "gain", "normal", "not-done", "no-z"}


def classes(el):
    return el.get("class", "").split()


def check_svg(path, problems):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        problems.append(f"{path}: not well-formed XML: {e}")
        return None, {}
    if root.tag != SVG_NS + "svg":
        problems.append(f"root element is {root.tag}, expected svg")
    if root.get("version") != "1.1":
        problems.append("svg version is not 1.1")
    marks = [g for g in root.iter() if "mark" in classes(g)]
    params = []
    kinds = {}
    for g in marks:
        ps = [c[len("param-"):] for c in classes(g) if c.startswith("param-")]
        if len(ps) != 1:
            problems.append(f"mark without exactly one param class: {classes(g)}")
            continue
        params.append(ps[0])
        kind = [c for c in classes(g) if c in KINDS]
        if len(kind) != 1:
            problems.append(f"mark {ps[0]} has no single kind: {classes(g)}")
        else:
            kinds[ps[0]] = kind[0]
        if g.get("id") != f"mark-{ps[0]}":
            problems.append(f"mark {ps[0]} has id {g.get('id')}")
    if params != DFNS:
        problems.append(f"marks {params}, expected one per parameter in "
                        f"DFNS order {DFNS}")
    lg = root.find(f".//{SVG_NS}text[@id='lg-code-text']")
    code = lg.text if lg is not None else None
    if code is None or len(code) != 4 or code[0] != "L" or code[2] != "G" \
            or not (code[1] in "0123" and code[3] in "0123"):
        problems.append(f"LG code text is {code!r}, expected LnGn")
    return code, kinds


def expected_kind(row):
    flags, z, ab = int(row["flags"]), float(row["z"]), int(row["abnormal"])
    if flags & 0x40:
        return "not-done"
    if row["param"] in ("PHS", "DMA"):
        return "gain" if ab > 0 else "normal"
    if math.isnan(z):
        return "no-z"
    return "loss" if z < -1.96 else "gain" if z > 1.96 else "normal"


def check_h5(path, code, kinds, problems):
    import h5py
    import pandas as pd
    with h5py.File(path, "r") as f:
        g = f["analysis"]
        df = pd.DataFrame({k: (g[k].asstr()[()] if h5py.check_string_dtype(
            g[k].dtype) else g[k][()]) for k in g.attrs["colnames"]})
        lg = g.attrs["lg_code"]
        lg = lg.decode() if isinstance(lg, bytes) else str(lg)
    if code != lg:
        problems.append(f"SVG LG code {code}, /analysis@lg_code {lg}")
    for _, row in df.iterrows():
        want = expected_kind(row)
        if kinds.get(row["param"]) != want:
            problems.append(f"mark {row['param']} is {kinds.get(row['param'])},"
                            f" /analysis says {want}")
    return df, lg


def same(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and abs(float(a) - float(b)) <= 1e-12 * max(1, abs(float(a)))


def check_json(path, df, lg, problems):
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    for key in ("metadata", "lg_code", "lg_loss", "lg_gain", "rows"):
        if key not in doc:
            problems.append(f"JSON lacks {key}")
    rows = doc.get("rows", [])
    if [r.get("param") for r in rows] != DFNS:
        problems.append("JSON rows are not the 13 parameters in DFNS order")
    if lg is not None and doc.get("lg_code") != lg:
        problems.append(f"JSON lg_code {doc.get('lg_code')}, file {lg}")
    if df is not None:
        for r, (_, h) in zip(rows, df.iterrows()):
            if not same(h["z"], r.get("z")):
                problems.append(f"JSON z of {r['param']} {r.get('z')} != {h['z']}")


def check_csv(path, df, problems):
    import pandas as pd
    c = pd.read_csv(path)
    want = ["param", "n", "value_raw", "unit", "value_transformed", "ref_mean",
            "ref_sd", "z", "abnormal", "flags", "stratum", "ref_table_id"]
    if list(c.columns) != want:
        problems.append(f"CSV columns {list(c.columns)}")
    if list(c["param"]) != DFNS:
        problems.append("CSV rows are not the 13 parameters in DFNS order")
    if df is not None:
        for (_, a), (_, b) in zip(c.iterrows(), df.iterrows()):
            if not same(b["z"], a["z"]) or int(a["flags"]) != int(b["flags"]):
                problems.append(f"CSV row {a['param']} differs from /analysis")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("svg")
    ap.add_argument("--h5")
    ap.add_argument("--json")
    ap.add_argument("--csv")
    ap.add_argument("--expect-lg")
    args = ap.parse_args()
    problems = []
    code, kinds = check_svg(args.svg, problems)
    df = lg = None
    if args.h5:
        df, lg = check_h5(args.h5, code, kinds, problems)
    if args.expect_lg and code != args.expect_lg:
        problems.append(f"LG code {code}, expected {args.expect_lg}")
    if args.json:
        check_json(args.json, df, lg, problems)
    if args.csv:
        check_csv(args.csv, df, problems)
    for p in problems:
        print(f"check_report: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {args.svg}: 13 marks in DFNS order, LG code {code}, "
          f"{sum(k in ('loss', 'gain') for k in kinds.values())} abnormal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
