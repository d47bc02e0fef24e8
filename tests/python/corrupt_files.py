#!/usr/bin/env python3
"""Hostile-input sweep over session files and journals (issue 7 item 5).

usage: corrupt_files.py QST GOOD.h5 GOOD.journal WORKDIR

GOOD.h5 must already be analysed (it has /analysis). From it and the
journal this makes many damaged variants -- truncations, seeded byte
flips, h5py edits (deleted datasets, wrong types and shapes, bad
attributes, absurd values), journal lines cut, flipped, duplicated,
reordered or rewritten and re-signed with a valid CRC -- and runs
`qst analyze`, `qst report` (SVG, --csv, --json), `qst analyze --group`
and `qst recover` on each, under a timeout.

Every run must: end by itself (no signal, no timeout), exit 0 or a
documented status (3 unsupported schema/journal version, 5 bad file),
print nothing from HDF5's error stack or a sanitizer, and on failure
print a `qst:` line naming the input file and leave no output behind
(no SVG, no recovered file, the analysed file byte for byte unchanged,
no stray temporary file in the directory).

Knobs (environment): QST_CORRUPT_CUTS (evenly spaced truncations, 16),
QST_CORRUPT_FLIPS (byte-flip variants of the session file, 40),
QST_CORRUPT_JFLIPS (journal mutations of each kind, 4),
QST_CORRUPT_SEED (1), QST_CORRUPT_TIMEOUT (seconds per run, 30),
QST_CORRUPT_JOBS (parallel runs, 2), QST_CORRUPT_ONLY (run only the
variants whose name contains this), QST_CORRUPT_EVERY (--json and
--group on every Nth session variant, 8). The reader child's CPU limit
is set to QST_READ_CPU_SECONDS=3 unless given.
"""
import concurrent.futures as cf
import hashlib
import os
import random
import shutil
import subprocess
import sys
import zlib

import h5py
import numpy as np

ALLOWED = {0, 3, 5}
SPEW = ("HDF5-DIAG", "AddressSanitizer", "LeakSanitizer", "runtime error:",
        "Assertion", "core dumped")


def env_int(name, default):
    return int(os.environ.get(name, default))


CUTS = env_int("QST_CORRUPT_CUTS", 16)
FLIPS = env_int("QST_CORRUPT_FLIPS", 40)
JFLIPS = env_int("QST_CORRUPT_JFLIPS", 4)
SEED = env_int("QST_CORRUPT_SEED", 1)
TIMEOUT = env_int("QST_CORRUPT_TIMEOUT", 30)
JOBS = env_int("QST_CORRUPT_JOBS", 2)
EVERY = max(1, env_int("QST_CORRUPT_EVERY", 8))
ONLY = os.environ.get("QST_CORRUPT_ONLY", "")
os.environ.setdefault("QST_READ_CPU_SECONDS", "3")


# ------------------------------------------------------------ h5 variants

def truncations(data):
    n = len(data)
    offs = {0, 1, 7, 8, 512, 2048}
    offs |= {4096 * k for k in range(1, 9) if 4096 * k < n}
    offs |= {n * i // (CUTS + 1) for i in range(1, CUTS + 1)}
    offs |= {n - 1, n - 512}
    for off in sorted(o for o in offs if 0 <= o < n):
        yield "cut%d" % off, data[:off]


def flips(data, rng):
    """Bias toward the metadata: the superblock and first object headers
    are at the start, /analysis (written last) at the end."""
    n = len(data)
    for i in range(FLIPS):
        b = bytearray(data)
        where = i % 3
        for _ in range(rng.randint(1, 8)):
            if where == 0:
                pos = rng.randrange(min(n, 16384))
            elif where == 1:
                pos = n - 1 - rng.randrange(min(n, 16384))
            else:
                pos = rng.randrange(n)
            b[pos] = rng.randrange(256)
        yield "flip%d" % i, bytes(b)


def replace(g, name, value=None, **kw):
    del g[name]
    g.create_dataset(name, data=value, **kw)


def set_attr(obj, name, value, dtype=None):
    if name in obj.attrs:
        del obj.attrs[name]
    if dtype is None:
        obj.attrs[name] = value
    else:
        obj.attrs.create(name, value, dtype=dtype)


def h5_edits():
    """(name, function(h5py.File)) -- each damages one thing."""
    vlen = h5py.string_dtype()
    raw = b"\xff\xfe" + b"A" * 64  # not UTF-8, no NUL
    e = []
    for col in ("test", "repetition", "direction", "value_measured",
                "baseline_c", "quality", "flags"):
        e.append(("del-trials-" + col,
                  lambda f, c=col: f["trials"].__delitem__(c)))
        e.append(("short-trials-" + col, lambda f, c=col: replace(
            f["trials"], c, f["trials"][c][:-1])))
        e.append(("str-trials-" + col, lambda f, c=col: replace(
            f["trials"], c, np.array(["x"] * len(f["trials"][c]),
                                     dtype=object), dtype=vlen)))
        e.append(("2d-trials-" + col, lambda f, c=col: replace(
            f["trials"], c, np.zeros((4, 3)))))
        e.append(("scalar-trials-" + col, lambda f, c=col: replace(
            f["trials"], c, 1.0)))
        e.append(("compound-trials-" + col, lambda f, c=col: replace(
            f["trials"], c, np.zeros(len(f["trials"][c]),
                                     dtype=[("a", "i4"), ("b", "f8")]))))
    for name, val in (("test", 99), ("test", -5), ("test", 2**31 - 1),
                      ("value_measured", np.nan), ("value_measured", np.inf),
                      ("value_measured", -1e308), ("baseline_c", np.nan),
                      ("quality", -1), ("quality", 1 << 30),
                      ("flags", -1), ("direction", -2**31),
                      ("repetition", 2**31 - 1)):
        def absurd(f, c=name, v=val):
            d = f["trials"][c][()]
            d[:] = v
            f["trials"][c][...] = d
        e.append(("absurd-trials-%s=%s" % (name, val), absurd))
    e.append(("huge-trials-test", lambda f: replace(
        f["trials"], "test", shape=(2**40,), dtype="i4", chunks=(1024,),
        maxshape=(None,))))
    e.append(("huge-all-columns", lambda f: [replace(
        f["trials"], c, shape=(2**36,), dtype="f8", chunks=(4096,),
        maxshape=(None,)) for c in (
            "test", "repetition", "direction", "value_measured",
            "baseline_c", "quality", "flags")]))
    e.append(("empty-trials", lambda f: [replace(
        f["trials"], c, np.zeros(0, dtype=f["trials"][c].dtype)) for c in
        ("test", "repetition", "direction", "value_measured", "baseline_c",
         "quality", "flags")]))
    for grp in ("metadata", "trials", "analysis"):
        e.append(("del-" + grp, lambda f, g=grp: f.__delitem__(g)))
        e.append(("dataset-" + grp, lambda f, g=grp: (
            f.__delitem__(g), f.create_dataset(g, data=np.arange(13)))))
    e.append(("softlink-loop-trials", lambda f: (
        f.__delitem__("trials"),
        f.__setitem__("trials", h5py.SoftLink("/trials")))))
    e.append(("extlink-analysis", lambda f: (
        f.__delitem__("analysis"),
        f.__setitem__("analysis",
                      h5py.ExternalLink("/nonexistent.h5", "/x")))))
    acols = ("param", "param_code", "n", "value_raw", "value_transformed",
             "ref_mean", "ref_sd", "z", "abnormal", "flags", "stratum")
    for col in acols:
        e.append(("del-analysis-" + col,
                  lambda f, c=col: f["analysis"].__delitem__(c)))
        e.append(("short-analysis-" + col, lambda f, c=col: replace(
            f["analysis"], c, f["analysis"][c][:-1])))
        e.append(("long-analysis-" + col, lambda f, c=col: replace(
            f["analysis"], c, np.concatenate([f["analysis"][c][()]] * 2))))
        e.append(("2d-analysis-" + col, lambda f, c=col: replace(
            f["analysis"], c, np.zeros((13, 2)))))
    e.append(("int-analysis-param", lambda f: replace(
        f["analysis"], "param", np.arange(13))))
    e.append(("fixedstr-analysis-param", lambda f: replace(
        f["analysis"], "param", np.array([b"CDT"] * 13, dtype="S3"))))
    e.append(("str-analysis-z", lambda f: replace(
        f["analysis"], "z", np.array(["1"] * 13, dtype=object), dtype=vlen)))
    e.append(("longstr-analysis-stratum", lambda f: replace(
        f["analysis"], "stratum", np.array(["s" * 100000] * 13, dtype=object),
        dtype=vlen)))
    e.append(("nonutf8-analysis-stratum", lambda f: replace(
        f["analysis"], "stratum", np.array([raw] * 13, dtype=object),
        dtype=h5py.string_dtype("ascii"))))
    e.append(("shuffled-analysis-param_code", lambda f: replace(
        f["analysis"], "param_code", np.arange(13)[::-1].astype("i4"))))
    for col, val in (("n", -7), ("n", 2**31 - 1), ("abnormal", 7),
                     ("flags", -1), ("z", np.nan), ("z", np.inf),
                     ("z", 1e308), ("value_raw", -np.inf),
                     ("ref_sd", -1.0)):
        def absurd_a(f, c=col, v=val):
            d = f["analysis"][c][()]
            d[:] = v
            f["analysis"][c][...] = d
        e.append(("absurd-analysis-%s=%s" % (col, val), absurd_a))
    # Attributes of the root, /metadata and /analysis.
    for obj, attr in (("/", "schema_name"), ("/", "schema_version"),
                      ("metadata", "subject_id"), ("metadata", "sex"),
                      ("metadata", "age_years"), ("metadata", "site"),
                      ("metadata", "protocol_name"),
                      ("metadata", "session_start_utc"),
                      ("analysis", "ref_table_id"),
                      ("analysis", "formula_version")):
        tag = obj.strip("/") or "root"
        e.append(("delattr-%s-%s" % (tag, attr),
                  lambda f, o=obj, a=attr: f[o].attrs.__delitem__(a)))
        e.append(("intattr-%s-%s" % (tag, attr),
                  lambda f, o=obj, a=attr: set_attr(f[o], a, 7)))
        e.append(("strarray-%s-%s" % (tag, attr),
                  lambda f, o=obj, a=attr: set_attr(
                      f[o], a, ["x" * 50] * 200, dtype=vlen)))
        e.append(("fixedarray-%s-%s" % (tag, attr),
                  lambda f, o=obj, a=attr: set_attr(
                      f[o], a, np.array([b"y" * 40] * 300, dtype="S40"))))
        e.append(("nonul-%s-%s" % (tag, attr),
                  lambda f, o=obj, a=attr: set_attr(
                      f[o], a, np.bytes_(raw), dtype=h5py.string_dtype(
                          "ascii", len(raw)))))
        e.append(("longstr-%s-%s" % (tag, attr),
                  lambda f, o=obj, a=attr: set_attr(f[o], a, "z" * 100000)))
        e.append(("floatarray-%s-%s" % (tag, attr),
                  lambda f, o=obj, a=attr: set_attr(
                      f[o], a, np.arange(5000, dtype="f8"))))
        e.append(("empty-%s-%s" % (tag, attr),
                  lambda f, o=obj, a=attr: set_attr(
                      f[o], a, h5py.Empty("f8"))))
    for ver in ("2.0.0", "0.9", "abc", "", "1" * 200, "-1.0",
                "99999999999999999999.0"):
        e.append(("schema_version=%s" % ver[:12], lambda f, v=ver: set_attr(
            f, "schema_version", v)))
    e.append(("schema_name=other", lambda f: set_attr(
        f, "schema_name", "other")))
    for v in (np.nan, np.inf, -1.0, 1e300):
        e.append(("age=%s" % v, lambda f, v=v: set_attr(
            f["metadata"], "age_years", v)))
    for v in ("", "X", "\xff"):
        e.append(("sex=%r" % v, lambda f, v=v: set_attr(
            f["metadata"], "sex", v)))
    return e


# ------------------------------------------------------- journal variants

def sign(text):
    return text + b" *%08x" % zlib.crc32(text)


def journal_lines(data):
    return [l for l in data.split(b"\n") if l]


def unsign(line):
    return line[:-10]


HOSTILE_FIELDS = [b"nan", b"inf", b"-inf", b"-1", b"0", b"99999999999",
                  b"2147483648", b"-9223372036854775808",
                  b"9223372036854775808", b"1e308", b"1e-320", b"'",
                  b"'\\x00", b"'\\x", b"'\\q", b"x" * 5000, b"'" + b"\\xff" * 300,
                  b"0x10", b"1.5", b"'\\s\\s"]


def journal_variants(data, rng):
    lines = journal_lines(data)
    n = len(data)
    v = [("j-empty", b""), ("j-newline", b"\n"), ("j-garbage", bytes(
        rng.randrange(256) for _ in range(4096))),
         ("j-magic-only", lines[0] + b"\n"),
         ("j-no-begin", b"\n".join(lines[:5]) + b"\n"),
         ("j-version2", sign(b"qst-journal 2 'qst-session '1.1.0") + b"\n" +
          b"\n".join(lines[1:]) + b"\n"),
         ("j-hdf5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100),
         ("j-nul-line", data.replace(lines[3], lines[3][:5] + b"\0" +
                                     lines[3][6:], 1)),
         ("j-crlf", data.replace(b"\n", b"\r\n")),
         ("j-long-line", sign(b"e 1 1 1 1 1 1 '" + b"x" * 1000000) + b"\n" +
          data)]
    for i in range(1, JFLIPS + 1):
        v.append(("j-cut%d" % i, data[:n * i // (JFLIPS + 1)]))
    for i in range(JFLIPS):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(n)] = rng.randrange(256)
        v.append(("j-flip%d" % i, bytes(b)))
    for i in range(JFLIPS):
        ls = list(lines)
        k = rng.randrange(len(ls))
        ls.insert(rng.randrange(len(ls)), ls[k])
        v.append(("j-dup%d" % i, b"\n".join(ls) + b"\n"))
        ls = list(lines)
        a, c = rng.randrange(len(ls)), rng.randrange(len(ls))
        ls[a], ls[c] = ls[c], ls[a]
        v.append(("j-swap%d" % i, b"\n".join(ls) + b"\n"))
        ls = list(lines)
        del ls[rng.randrange(len(ls))]
        v.append(("j-del%d" % i, b"\n".join(ls) + b"\n"))
    # Valid CRC, hostile content: reach the record parsers and the replay.
    for i in range(4 * JFLIPS):
        ls = list(lines)
        k = rng.randrange(len(ls))
        fields = unsign(ls[k]).split(b" ")
        j = rng.randrange(len(fields))
        fields[j] = rng.choice(HOSTILE_FIELDS)
        if rng.random() < 0.2:
            fields.append(b"extra")
        ls[k] = sign(b" ".join(fields))
        v.append(("j-resign%d" % i, b"\n".join(ls) + b"\n"))
    return v


# -------------------------------------------------------------- running

class Sweep:
    def __init__(self, qst, work):
        self.qst = qst
        self.work = work
        self.runs = 0
        self.contained = 0
        self.problems = []

    def run(self, name, args, subject, outputs=(), unchanged=None):
        """Run qst ARGS; subject = the input file the message must name."""
        d = os.path.dirname(subject)
        before = set(os.listdir(d))
        digest = unchanged and sha(unchanged)
        try:
            p = subprocess.run([self.qst] + args, capture_output=True,
                               timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return self.bad(name, args, "timeout after %d s" % TIMEOUT, "")
        self.runs += 1
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode < 0:
            return self.bad(name, args, "killed by signal %d" %
                            -p.returncode, err)
        if p.returncode not in ALLOWED:
            return self.bad(name, args, "exit %d" % p.returncode, err)
        if hdf5_crash_contained(p.returncode, err, subject):
            self.contained += 1
        else:
            for s in SPEW:
                if s in err:
                    return self.bad(name, args, "stderr has '%s'" % s, err)
        if p.returncode == 0:
            return True
        base = os.path.basename(subject)
        if not any(l.startswith("qst: ") and base in l
                   for l in err.splitlines()):
            return self.bad(name, args, "no 'qst:' line naming %s" % base,
                            err)
        for o in outputs:
            if os.path.lexists(o):
                return self.bad(name, args, "left %s behind" % o, err)
        if unchanged and sha(unchanged) != digest:
            return self.bad(name, args, "failed but changed %s" % unchanged,
                            err)
        extra = set(os.listdir(d)) - before - {os.path.basename(o)
                                               for o in outputs}
        if extra:
            return self.bad(name, args, "left %s behind" % sorted(extra),
                            err)
        return False

    def bad(self, name, args, what, err):
        tail = err.strip().splitlines()[-3:]
        self.problems.append("%s: qst %s: %s\n    %s" % (
            name, " ".join(args[:2]), what, "\n    ".join(tail)))
        keep = os.path.join(self.work, "failed")
        os.makedirs(keep, exist_ok=True)
        for a in args:
            if os.path.isfile(a) and a.startswith(self.work) and \
                    "/failed/" not in a:
                shutil.copy(a, os.path.join(keep, os.path.basename(a)))
        return None


def hdf5_crash_contained(rc, err, subject):
    """In the AddressSanitizer build a wild read inside the HDF5 library
    (H5HG_read on a damaged global heap) is reported by ASan in the reader
    child, which then exits 1; the parent still fails cleanly. Accept that
    report only if its top frame past the interceptor is in libhdf5 and the
    run ended as a contained crash must."""
    if "AddressSanitizer" not in err or rc != 5:
        return False
    frames = [l for l in err.splitlines() if l.strip().startswith("#")]
    top = [f for f in frames[:2] if "interceptor" not in f]
    return bool(top) and "libhdf5" in top[0] and \
        "damaged beyond reading" in err and subject in err


def sha(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def check_h5(sw, good, name, path, full):
    """Every reader on one damaged session file (each in its own dir);
    --json and --group read the same way as --csv, so only when full."""
    d = os.path.dirname(path)
    svg = os.path.join(d, "out.svg")
    sw.run(name, ["report", path, "--csv", "--svg", svg], path,
           outputs=[svg])
    if full:
        if os.path.exists(svg):
            os.unlink(svg)
        sw.run(name, ["report", path, "--json", "--svg", svg], path,
               outputs=[svg])
        sw.run(name, ["analyze", "--group", good, path, good], path)
    sw.run(name, ["analyze", path], path, unchanged=path)


def check_journal(sw, name, path):
    d = os.path.dirname(path)
    out = os.path.join(d, "rec.h5")
    ok = sw.run(name, ["recover", path, "--out", out], path, outputs=[out])
    if ok:
        sw.run(name + "+analyze", ["analyze", out], out, unchanged=out)
        svg = os.path.join(d, "rec.svg")
        sw.run(name + "+report", ["report", out, "--csv", "--svg", svg],
               out, outputs=[svg])


def make_h5(work, good, name, content=None, edit=None):
    d = os.path.join(work, name.replace("/", "_")[:60])
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "s.h5")
    if content is not None:
        with open(path, "wb") as fh:
            fh.write(content)
    else:
        shutil.copy(good, path)
        with h5py.File(path, "r+") as f:
            edit(f)
    os.chmod(path, 0o600)
    return path


def main():
    qst, good, journal, work = sys.argv[1:5]
    rng = random.Random(SEED)
    with open(good, "rb") as fh:
        data = fh.read()
    with open(journal, "rb") as fh:
        jdata = fh.read()
    sw = Sweep(qst, work)
    counts = {}
    jobs = []
    for kind, gen in (("truncation", truncations(data)),
                      ("byte flip", flips(data, rng))):
        for name, content in gen:
            if ONLY not in name:
                continue
            counts[kind] = counts.get(kind, 0) + 1
            jobs.append((name, make_h5(work, good, name, content=content)))
    for name, edit in h5_edits():
        if ONLY not in name:
            continue
        try:
            path = make_h5(work, good, name, edit=edit)
        except Exception as exc:  # an edit h5py refuses is a helper bug
            print("edit %s failed: %s" % (name, exc), file=sys.stderr)
            sys.exit(2)
        counts["h5py edit"] = counts.get("h5py edit", 0) + 1
        jobs.append((name, path))
    jjobs = []
    for name, content in journal_variants(jdata, rng):
        if ONLY not in name:
            continue
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "s.h5.journal")
        with open(path, "wb") as fh:
            fh.write(content)
        counts["journal"] = counts.get("journal", 0) + 1
        jjobs.append((name, path))
    with cf.ThreadPoolExecutor(JOBS) as ex:
        futs = [ex.submit(check_h5, sw, good, n, p, i % EVERY == 0)
                for i, (n, p) in enumerate(jobs)]
        futs += [ex.submit(check_journal, sw, n, p) for n, p in jjobs]
        for f in futs:
            f.result()
    print("variants: " + ", ".join("%s %d" % kv for kv in counts.items()) +
          "; qst runs: %d; problems: %d" % (sw.runs, len(sw.problems)) +
          ("; HDF5 crashes contained under ASan: %d" % sw.contained
           if sw.contained else ""))
    for p in sw.problems:
        print("PROBLEM " + p)
    sys.exit(1 if sw.problems else 0)


if __name__ == "__main__":
    main()
