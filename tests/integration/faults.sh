# Fault injection against the simulated devices (docs/simulation.md): each
# fault is injected 3 s into the second HPT ramp of a short session, and
# the wire log, /events and /trials must show the station's answer
# (tests/python/check_fault_run.py): the TCS II abort command first, then
# the 32 °C neutral, the fault recorded word for word, the trials finished
# before it kept, the interrupted one marked aborted. The figures printed
# are the fault-to-abort latencies on the session clock.
. "$(dirname "$0")/lib.sh"
S="$QST_SRC/tests/scripts/session_faults.lua"
CHECK="$QST_SRC/tests/python/check_fault_run.py"

session() { # session NAME [qst run options...]
	name=$1; shift
	set +e
	"$QST" run "$S" --skip-check --subject S07 --sex F --age 30 --site hand \
		--seed 11 --clock virtual --out "$WORK/$name.h5" \
		--wire-log "$WORK/$name.wire" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	echo $? >"$WORK/$name.rc"
	set -e
}

exit_is() { # exit_is NAME CODE
	[ "$(cat "$WORK/$1.rc")" = "$2" ] ||
		{ cat "$WORK/$1.err" >&2; fail "$1: exit $(cat "$WORK/$1.rc"), expected $2"; }
	"$PY" "$QST_SRC/tests/python/check_session.py" "$WORK/$1.h5" >/dev/null ||
		fail "$1: the session file does not pass check_session.py"
}

# A fault that cannot be simulated is a usage error, before anything runs.
expect_exit 2 "$QST" run "$S" --subject S07 --sex F --age 30 --site hand \
	--out "$WORK/bad.h5" --sim-fault melt@3
expect_err "KIND is stall, disconnect, garbage or diverge"
expect_exit 2 "$QST" run "$S" --subject S07 --sex F --age 30 --site hand \
	--out "$WORK/bad.h5" --sim-fault response:diverge@3
expect_err "only the thermode can diverge"
[ ! -e "$WORK/bad.h5" ] || fail "a refused --sim-fault left a file behind"

# The healthy session: where the second HPT ramp is.
session clean
exit_is clean 0
AT=$("$PY" - "$WORK/clean.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    hpt = list(f["lookup/test_names"].asstr()[()]).index("HPT")
    t = f["trials"]
    onset = [o for o, k in zip(t["t_onset_ns"][()], t["test"][()]) if k == hpt]
    assert len(onset) == 3, onset
    print(f"{onset[1] / 1e9 + 3.0:.3f}")
PYEOF
)
echo "faults at $AT s, 3 s into the second HPT ramp"

check() { # check NAME REGEX: the fault's checks, with the operator told
	"$PY" "$CHECK" "$WORK/$1.h5" "$WORK/$1.wire" "$WORK/clean.h5" --at "$AT" \
		--fault "$2" || fail "$1"
	grep -q "DEVICE FAULT: " "$WORK/$1.err" || fail "$1: the operator was not told"
	grep -Eq "session stopped: .*stimulation aborted: $2; the session was ended\$" "$WORK/$1.err" ||
		{ cat "$WORK/$1.err" >&2; fail "$1: no final message naming the fault"; }
}

# The thermode hangs: the readback watchdog (500 ms, §8.2 interlock 3).
session stall --sim-fault "stall@$AT"
exit_is stall 4
check stall "no thermode readback for 500 ms"

# The thermode's link closes: reads see the end, the abort cannot be
# delivered but is still attempted first (a '>!' line in the wire log).
session disconnect --sim-fault "disconnect@$AT"
exit_is disconnect 4
check disconnect "thermode link lost \(input/output error\)"
grep -q " thermal >! A QST_ERR_IO" "$WORK/disconnect.wire" ||
	fail "disconnect: the abort attempt is not in the wire log"

# Noise on the thermode's line for good: no valid readback gets through.
session garbage --sim-fault "garbage@$AT"
exit_is garbage 4
check garbage "no thermode readback for [0-9]+ ms"

# The plate stops following the ramp (1 °C/s): tracking (> 2 °C for 1 s).
session diverge --sim-fault "diverge@$AT"
exit_is diverge 4
check diverge "thermode readback [0-9.]+ °C diverges from command [0-9.]+ °C by [0-9.]+ °C for 1.00 s"
# ... and falls away 8 °C at once: caught 1 s after it is 2 °C off.
session diverge_fast --sim-fault "diverge@$AT:-8"
exit_is diverge_fast 4
check diverge_fast "thermode readback [0-9.]+ °C diverges from command [0-9.]+ °C by [0-9.]+ °C for 1.00 s"

# The response pad: a lost link is a fault; noise that lasts is a fault.
session pad_disconnect --sim-fault "response:disconnect@$AT"
exit_is pad_disconnect 4
check pad_disconnect "response pad link lost \(input/output error\)"
session pad_garbage --sim-fault "response:garbage@$AT"
exit_is pad_garbage 4
check pad_garbage "response pad link corrupt for 1.00 s \([0-9]+ bytes discarded\)"

# Short bursts are absorbed: resynchronised, counted, recorded, no fault,
# and the session ends as the clean one did.
session burst --sim-fault "garbage@$AT:0.3"
exit_is burst 0
"$PY" "$CHECK" "$WORK/burst.h5" "$WORK/burst.wire" "$WORK/clean.h5" --at "$AT" \
	--no-fault --noise thermode || fail "burst"
session pad_burst --sim-fault "response:garbage@$AT:0.3"
exit_is pad_burst 0
"$PY" "$CHECK" "$WORK/pad_burst.h5" "$WORK/pad_burst.wire" "$WORK/clean.h5" \
	--at "$AT" --no-fault --noise "response pad" || fail "pad_burst"

# A transient fault with an operator: the session pauses, the operator
# resumes, the watchdogs start afresh once the link is clean again, the
# thermode is back at baseline, and the interrupted trial is repeated.
printf 'y\n' >"$WORK/resume.answers"
session resume --sim-fault "garbage@$AT:1.5" --answers "$WORK/resume.answers"
exit_is resume 0
grep -q "resumed: the interrupted trial is repeated" "$WORK/resume.err" ||
	{ cat "$WORK/resume.err" >&2; fail "resume: the operator was not told"; }
"$PY" - "$WORK/resume.h5" <<'PYEOF' || fail "resume"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    names = list(f["lookup/event_code_names"].asstr()[()])
    codes = [names[c] for c in f["events/code"][()]]
    for want in ("device_fault", "pause", "resume"):
        assert codes.count(want) == 1, f"{want}: {codes.count(want)} events"
    assert codes.index("device_fault") < codes.index("pause") < codes.index("resume")
    flags = list(f["lookup/trial_flag_names"].asstr()[()])
    aborted = 1 << flags.index("aborted")
    hpt = list(f["lookup/test_names"].asstr()[()]).index("HPT")
    t = f["trials"]
    rows = [int(fl) for k, fl in zip(t["test"][()], t["flags"][()]) if k == hpt]
    done = [fl for fl in rows if not fl & aborted]
    assert len(rows) == 4 and len(done) == 3, f"HPT rows {rows}"
print("resume: 3 HPT trials plus the aborted one, pause and resume recorded")
PYEOF

# The algometer, 2 s into the second PPT ramp: the gauge stops answering
# (the driver's 5 unanswered requests, 500 ms) or its link closes. The
# operator is told to let go, the first threshold is kept, the interrupted
# trial is recorded as aborted, the fault is the algometer's.
P="$QST_SRC/tests/scripts/session_ppt.lua"
for fault in stall disconnect; do
	set +e
	"$QST" run "$P" --skip-check --subject S07 --sex F --age 30 --site hand \
		--seed 11 --clock virtual --out "$WORK/ppt_$fault.h5" \
		--sim-fault "pressure:$fault@30" >/dev/null 2>"$WORK/ppt_$fault.err"
	echo $? >"$WORK/ppt_$fault.rc"
	set -e
	exit_is "ppt_$fault" 4
	grep -q "DEVICE FAULT: .* Release the algometer now." "$WORK/ppt_$fault.err" ||
		{ cat "$WORK/ppt_$fault.err" >&2; fail "ppt_$fault: the operator was not told to let go"; }
	"$PY" - "$WORK/ppt_$fault.h5" <<'PYEOF' || fail "ppt_$fault"
import sys, h5py, math
with h5py.File(sys.argv[1], "r") as f:
    flags = list(f["lookup/trial_flag_names"].asstr()[()])
    t = f["trials"]
    fl, val = t["flags"][()], t["value_measured"][()]
    assert len(fl) == 2, f"{len(fl)} PPT rows"
    assert fl[0] == 0 and math.isfinite(val[0]), "the first threshold was lost"
    assert fl[1] & (1 << flags.index("aborted")) and math.isnan(val[1])
    ev = f["events"]
    codes = list(f["lookup/event_code_names"].asstr()[()])
    srcs = list(f["lookup/event_source_names"].asstr()[()])
    faults = [srcs[s] for c, s in zip(ev["code"][()], ev["source"][()])
              if codes[c] == "device_fault"]
    assert faults == ["pressure"], faults
PYEOF
done

# The checker can fail: the clean run has no fault to find.
if "$PY" "$CHECK" "$WORK/clean.h5" "$WORK/clean.wire" "$WORK/clean.h5" --at "$AT" \
	--fault "no thermode readback.*" >/dev/null 2>&1; then
	fail "check_fault_run.py accepted a run without a fault"
fi
echo "ok: faults handled"
