#!/usr/bin/python3
"""Check the runs of tests/integration/crash_points.sh.

Usage: check_crash.py DIR POINTS

DIR holds ref.h5 (the session without a kill), plan, and one runN/ per
kill with log (the operator's stderr), meta (exit codes, point, mode),
rep1, rep2 (what `qst recover` said) and rec1.h5, rec.h5 (the first
recover, and a second one over it with --overwrite).
Every trial the operator saw completed must be in the recovered file, and
every row of every table there must equal the reference row for row: a
recovered file is a prefix of the uninterrupted session. Exits 1 with
one line per violation.
"""
import contextlib
import io
import os
import re
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_session  # noqa: E402

# "[   39.4 s] WDT 1/3  34.10 °C" or "TSL 2/6 warm ... aborted": a trial
# the session printed, which it does only once the trial is journaled.
TRIAL_LINE = re.compile(r"^\[\s*[\d.]+ s\] ([A-Z]{3})\s+(\d+)/(\d+)\b")
TABLES = ("trials", "events", "temperature", "devices")


def read_meta(path):
    meta = {}
    for line in open(path):
        k, _, v = line.strip().partition("=")
        meta[k] = v
    return meta


def table(f, name):
    g = f[name]
    out = {}
    for k in g:
        ds = g[k]
        if h5py.check_string_dtype(ds.dtype) is not None:
            out[k] = np.array(ds.asstr()[()], dtype=object)
        else:
            out[k] = ds[()]
    return out


def same(a, b):
    if a.dtype == object or b.dtype == object:
        return list(a) == list(b)
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def valid(path):
    """check_session.py's own checks, run in this process (fast)."""
    argv, sys.argv = sys.argv, ["check_session.py", path]
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(err):
            rc = check_session.main()
    finally:
        sys.argv = argv
    return rc == 0, err.getvalue().strip()


class Run:
    def __init__(self, d, ref, stats):
        self.d, self.ref, self.stats = d, ref, stats
        self.errors = []
        self.meta = read_meta(os.path.join(d, "meta"))
        self.log = open(os.path.join(d, "log"), errors="replace").read()

    def fail(self, msg):
        self.errors.append(f"{os.path.basename(self.d)} "
                           f"(point {self.meta.get('point')}, "
                           f"{self.meta.get('mode')}): {msg}")

    def seen(self):
        return sum(1 for line in self.log.splitlines() if TRIAL_LINE.match(line))

    def text(self, name):
        return open(os.path.join(self.d, name), errors="replace").read()

    def check(self):
        m = self.meta
        if m["point"] != "0" and "test kill at write point" not in self.log:
            self.fail("the session ended before its kill point")
        if m["rc_run"] == "0":
            self.stats["finished"] += 1  # an outside kill came too late
        seen = self.seen()
        if m["rc_rec1"] != "0":
            # Only a kill before the journal's header was complete may
            # leave nothing to recover, and then no trial was shown.
            if seen or self.journal_has_begin():
                self.fail(f"recover failed with {seen} trials shown: "
                          f"{self.text('rep1').strip()}")
            self.stats["header"] += 1
            return
        self.check_recovered(seen)

    def journal_has_begin(self):
        path = os.path.join(self.d, "k.h5.journal")
        if not os.path.exists(path):  # killed before it was created
            return False
        with open(path, "rb") as j:
            return any(line.startswith(b"begin ") for line in j)

    def check_recovered(self, seen):
        m = self.meta
        rec, rec1 = (os.path.join(self.d, n) for n in ("rec.h5", "rec1.h5"))
        if "rc_rec2" in m:
            self.stats["twice"] += 1
            if m["rc_rec2"] != "0":
                self.fail("a second recover failed")
            if open(rec, "rb").read() != open(rec1, "rb").read():
                self.fail("a second recover gave a different file")
            if self.text("rep1") != self.text("rep2"):
                self.fail("a second recover reported differently")
        ok, why = valid(rec)
        if not ok:
            self.fail(f"check_session: {why}")
        with h5py.File(rec, "r") as f:
            n = len(f["trials/trial_id"])
            # A kill after the journal's close line leaves it complete.
            complete = f.attrs["complete"] == 1
            if m["rc_run"] == "0" and not complete:
                self.fail("a session that ended is not complete")
            if complete and n != len(self.ref["trials"]["trial_id"]):
                self.fail(f"complete with {n} trials")
            for name in TABLES:
                self.prefix(table(f, name), name)
        if n < seen:
            self.fail(f"{seen} trials shown as done, {n} recovered")
        if f"{n} trials" not in self.text("rep1"):
            self.fail(f"recover's report does not say {n} trials")
        self.stats["trials"] += n
        self.stats["torn"] += "torn last" in self.text("rep1")
        self.original()

    def prefix(self, got, name):
        want = self.ref[name]
        if sorted(got) != sorted(want):
            self.fail(f"/{name} columns {sorted(got)}")
            return
        for col, values in got.items():
            if len(values) > len(want[col]) or \
                    not same(values, want[col][:len(values)]):
                self.fail(f"/{name}/{col} differs from the session "
                          f"without a kill ({len(values)} rows)")
                return

    def original(self):
        """Not promised (landscape.md §3.3): how often the killed file
        itself still opens. Counted for the figures only."""
        if self.meta["mode"] != "process":
            return
        try:
            with h5py.File(os.path.join(self.d, "k.h5"), "r") as f:
                f["trials/trial_id"][()]
            self.stats["orig_ok"] += 1
        except (OSError, KeyError):
            self.stats["orig_bad"] += 1


def main():
    d, points = sys.argv[1], int(sys.argv[2])
    with h5py.File(os.path.join(d, "ref.h5"), "r") as f:
        ref = {name: table(f, name) for name in TABLES}
    stats = dict.fromkeys(("finished", "header", "trials", "torn", "twice",
                           "orig_ok", "orig_bad"), 0)
    errors, covered, modes = [], set(), {}
    plan = [line.split() for line in open(os.path.join(d, "plan"))]
    for i, point, mode, _ in plan:
        run = Run(os.path.join(d, f"run{i}"), ref, stats)
        run.check()
        errors += run.errors
        if point != "0":
            covered.add(int(point))
        modes[mode] = modes.get(mode, 0) + 1
    for e in errors:
        print(f"check_crash: {e}", file=sys.stderr)
    print(f"{len(plan)} kills ({', '.join(f'{v} {k}' for k, v in sorted(modes.items()))}); "
          f"{len(covered)} of {points} write points covered; "
          f"{stats['trials']} trials recovered, all identical to the "
          f"uninterrupted session; {stats['torn']} torn last lines dropped; "
          f"recovered twice, same bytes and report: {stats['twice']}; "
          f"{stats['header']} kills before the journal header was complete; "
          f"{stats['finished']} outside kills came after the end; killed "
          f"file itself readable in {stats['orig_ok']} of "
          f"{stats['orig_ok'] + stats['orig_bad']} process kills")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
