#!/usr/bin/python3
"""Check what the station did about a fault injected into a simulated device.

Usage: check_fault_run.py RUN.h5 RUN.wire CLEAN.h5 --at SECONDS
           (--fault REGEX | --no-fault [--noise DEVICE])

RUN was made with `--sim-fault ...@SECONDS`, CLEAN with the same seed and no
fault (so both are the same session up to SECONDS). With --fault, checks:
- the wire log: the thermode's abort command `A` was sent after SECONDS and
  before any other command to the thermode; the safe neutral `N320`
  (qst-domain §8.2 interlock 5) followed it; no stimulus was launched (`L`)
  after SECONDS;
- /events: one device_fault whose message matches REGEX, after SECONDS;
- /trials: every trial CLEAN finished before SECONDS, the same; exactly one
  more row, the interrupted trial, flagged aborted with no value; nothing
  begun after the fault.
Prints the fault-to-abort latency on the session clock.
With --no-fault: no device_fault, no abort, every trial of CLEAN recorded
with the same responses (the fault was absorbed); with --noise, the
device's "corrupt data discarded" event is there.
"""
import argparse
import math
import re
import sys

import h5py
import numpy as np

import wire_log

ABORTED = 1 << 2  # /lookup/trial_flag_names bit 2


def events(f):
    names = f["lookup/event_code_names"].asstr()[()]
    e = f["events"]
    return [(t, names[c], m) for t, c, m in
            zip(e["t_ns"][()], e["code"][()], e["message"].asstr()[()])]


def trials(f):
    t = f["trials"]
    return {k: t[k][()] for k in t}


def check_abort(wire, at_ns):
    """Latency from the fault to `A`, checking what surrounds it."""
    # Queries the driver asks on its own (read-back `P`, error state `Q`,
    # buttons `K`, temperature `E`) change nothing and may fall anywhere.
    cmds = [c for c in wire_log.tcs2_commands(wire) if c.text[:1] not in "PQKE?H"]
    after = [c for c in cmds if c.t_ns >= at_ns]
    if not after or after[0].text != "A":
        sys.exit(f"first thermode command after the fault is not A: "
                 f"{[c.text for c in after[:5]]}")
    if len(after) < 2 or after[1].text != "N320":
        sys.exit(f"A is not followed by N320: {[c.text for c in after[:5]]}")
    launched = [c for c in after if c.text == "L"]
    if launched:
        sys.exit(f"a stimulus was launched after the fault at {launched[0].t_ns} ns")
    unsent = [c.text for c in after[:2] if not c.sent]
    return after[0].t_ns - at_ns, unsent


def check_trials(run, clean, at_ns, expect_aborted, value_tol=0.0):
    done = clean["t_stop_ns"] < at_ns
    ok = (run["flags"] & ABORTED) == 0
    for k in ("trial_id", "test", "t_response_ns"):
        if not np.array_equal(run[k][ok], clean[k][done]):
            sys.exit(f"/trials/{k}: completed trials differ from the clean run")
    # Lost readback lines may move "the temperature at the press" a little.
    if not np.allclose(run["value_measured"][ok], clean["value_measured"][done],
                       rtol=0, atol=value_tol, equal_nan=True):
        sys.exit("/trials/value_measured differs from the clean run")
    if not expect_aborted:
        return
    bad = run["trial_id"][~ok]
    if len(bad) != 1 or not math.isnan(run["value_measured"][~ok][0]):
        sys.exit(f"expected one aborted trial without a value, got {bad}")
    if run["t_start_ns"][~ok][0] > at_ns:
        sys.exit("the aborted trial began after the fault")
    if bad[0] != len(clean["trial_id"][done]):
        sys.exit(f"aborted trial {bad[0]} is not the one running at the fault")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("wire")
    ap.add_argument("clean")
    ap.add_argument("--at", type=float, required=True)
    ap.add_argument("--fault")
    ap.add_argument("--no-fault", action="store_true")
    ap.add_argument("--noise")
    a = ap.parse_args()
    at_ns = round(a.at * 1e9)
    wire = wire_log.read(a.wire)
    with h5py.File(a.run, "r") as f, h5py.File(a.clean, "r") as g:
        ev, run, clean = events(f), trials(f), trials(g)
    faults = [(t, m) for t, c, m in ev if c == "device_fault"]
    if a.no_fault:
        if faults:
            sys.exit(f"unexpected device_fault: {faults}")
        if any(c.text == "A" for c in wire_log.tcs2_commands(wire)):
            sys.exit("an abort was sent although no fault was declared")
        check_trials(run, clean, math.inf, False, value_tol=0.3)
        if a.noise and not any(c == "log" and m.startswith(a.noise + " link: corrupt")
                               for _, c, m in ev):
            sys.exit(f"no '{a.noise} link: corrupt data' event recorded")
        print(f"absorbed: {len(run['trial_id'])} trials as in the clean run")
        return
    if len(faults) != 1 or faults[0][0] < at_ns or not re.fullmatch(a.fault, faults[0][1]):
        sys.exit(f"expected one device_fault matching {a.fault!r} after "
                 f"{a.at} s, got {faults}")
    latency, unsent = check_abort(wire, at_ns)
    check_trials(run, clean, at_ns, True)
    note = f" (write failed: {', '.join(unsent)})" if unsent else ""
    print(f"fault at {a.at:.3f} s -> A at +{latency / 1e6:.1f} ms{note}: "
          f"{faults[0][1]}")


if __name__ == "__main__":
    main()
