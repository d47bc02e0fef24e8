#!/usr/bin/python3
"""Check a session that ran into a full disk (tests/integration/disk_full.sh).

Usage: check_disk_full.py REF.h5 LOG JOURNAL RECOVERED.h5 resumed|ended [FILE.h5]

REF.h5 is the same session on a disk with space. LOG is the operator's
stderr, JOURNAL the session's journal, RECOVERED.h5 what `qst recover`
made of it, FILE.h5 the session file itself (checked when given).

- the journal has no torn line: every line ends in a newline and its CRC;
- every trial shown to the operator is recovered, and every trial shown
  before the disk filled is identical, in every column, to the reference;
- resumed: all the reference's trials are there, the file is complete and
  holds the pause and the resume; ended: exactly the trials shown.
"""
import os
import re
import sys
import zlib

import h5py
import numpy as np

TRIAL_LINE = re.compile(r"^\[\s*[\d.]+ s\] ([A-Z]{3})\s+(\d+)/(\d+)\b")


def journal_torn_lines(path):
    """Lines that are not '<text> *<crc32 of text>\\n'."""
    bad = []
    data = open(path, "rb").read()
    if data and not data.endswith(b"\n"):
        bad.append("unterminated last line")
    for i, line in enumerate(data.split(b"\n")[:-1], 1):
        m = re.match(rb"^(.*) \*([0-9a-f]{8})$", line, re.S)
        if not m or zlib.crc32(m.group(1)) != int(m.group(2), 16):
            bad.append(f"line {i}")
    return bad


def shown_trials(log):
    """(trials shown in all, shown before the DISK FULL line)."""
    shown, before = 0, None
    for line in open(log, errors="replace"):
        if "DISK FULL:" in line and before is None:
            before = shown
        if TRIAL_LINE.match(line):
            shown += 1
    return shown, before


def trials(path):
    with h5py.File(path, "r") as f:
        g = f["trials"]
        return {k: g[k][()] for k in g}, int(f.attrs["complete"]), \
            [c for c in f["events/code"][()]], \
            list(f["lookup/event_code_names"].asstr()[()]) \
            if "lookup/event_code_names" in f else None


def first_rows_equal(got, want, n):
    for col, values in want.items():
        a, b = got[col][:n], values[:n]
        if len(a) < n or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            return col
    return None


def main():
    ref, log, journal, rec, mode = sys.argv[1:6]
    errors = []
    torn = journal_torn_lines(journal)
    if torn:
        errors.append(f"{journal}: torn or bad lines: {torn[:5]}")
    shown, before = shown_trials(log)
    if before is None:
        errors.append(f"{log}: the operator was not told (no DISK FULL line)")
        before = 0
    want, _, _, _ = trials(ref)
    files = [rec] + sys.argv[6:7]
    for path in files:
        got, complete, codes, names = trials(path)
        n = len(got["trial_id"])
        bad = first_rows_equal(got, want, before)
        if bad:
            errors.append(f"{path}: /trials/{bad} differs from the session "
                          f"without a full disk in the first {before} trials")
        if mode == "resumed":
            if n != len(want["trial_id"]) or complete != 1:
                errors.append(f"{path}: {n} trials, complete={complete}; "
                              f"expected all {len(want['trial_id'])}, complete")
            if names and not {"pause", "resume"} <= {names[c] for c in codes}:
                errors.append(f"{path}: no pause and resume events")
        elif n != shown:
            errors.append(f"{path}: {n} trials, {shown} shown as done")
    for e in errors:
        print(f"check_disk_full: {e}", file=sys.stderr)
    if not errors:
        print(f"{os.path.basename(rec)}: {shown} trials shown, {before} before "
              f"the disk filled, all there; journal intact ({mode})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
