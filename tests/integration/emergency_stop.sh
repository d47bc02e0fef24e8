# The emergency stop (issue 7 item 3): from the response device (a held
# key, the stop key) and from the operator (Ctrl-C). The thermode is
# aborted, the session pauses, and the operator resumes it (the trial is
# repeated) or it ends; without an operator console it ends. Never
# silently continued.
. "$(dirname "$0")/lib.sh"
S="$QST_SRC/tests/scripts"
P="$QST_SRC/protocols/dfns_thermal.lua"
ID="--subject S01 --sex F --age 35 --site hand --clock virtual --seed 2"

events() { # events FILE: "t code message" lines of stop-related events
	"$PY" - "$1" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    names = f["lookup/event_code_names"].asstr()[()]
    for t, c, m in zip(f["events/t_s"][()], f["events/code"][()],
                       f["events/message"].asstr()[()]):
        if names[c] in ("emergency_stop", "pause", "resume"):
            print(f"{t:.3f} {names[c]} {m}")
PYEOF
}

# 1. The subject holds a key down (2 s) during CPT; nobody to resume: ends.
expect_exit 6 "$QST" run "$P" $ID --participant-set panic_at_s=100 --out "$WORK/a.h5"
expect_err "emergency stop: response key 1 held for 2.0 s; the session was ended"
events "$WORK/a.h5" >"$WORK/ev"
grep -q "emergency_stop response key 1 held" "$WORK/ev" || { cat "$WORK/ev"; fail "no stop event"; }
grep -q "pause" "$WORK/ev" || fail "no pause event"
! grep -q "resume" "$WORK/ev" || fail "resumed without an operator"
"$PY" "$QST_SRC/tests/python/check_session.py" "$WORK/a.h5" >/dev/null || fail "file after stop"

# 2. The same with an operator who resumes: the interrupted CPT trial is
#    repeated, the press that began the stop is no answer, all 18 trials.
echo y >"$WORK/yes"
expect_exit 0 "$QST" run "$P" $ID --participant-set panic_at_s=100 --answers "$WORK/yes" \
	--out "$WORK/b.h5"
events "$WORK/b.h5" >"$WORK/ev"
grep -q "resume" "$WORK/ev" || { cat "$WORK/ev"; fail "no resume event"; }
"$PY" "$QST_SRC/tests/python/check_session.py" "$WORK/b.h5" --expect-complete >/dev/null ||
	fail "file after resume"
"$PY" - "$WORK/b.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    t = f["trials"]
    test, rep = t["test"][()], t["repetition"][()]
    resp = t["t_response_s"][()]
    names = f["lookup/test_names"].asstr()[()]
cpt = sorted(int(r) for x, r in zip(test, rep) if names[x] == "CPT")
assert cpt == [1, 2, 3], f"CPT repetitions {cpt}"
assert len(test) == 18, f"{len(test)} trials"
# The panic press began at 100 s: no trial may have taken it as its answer.
assert not any(100.0 <= r < 102.0 for r in resp), "the stop press became an answer"
print("resume: 18 trials, CPT 1-3 once each, the stop press unused")
PYEOF

# 3. The operator ends it at the pause.
echo n >"$WORK/no"
expect_exit 6 "$QST" run "$P" $ID --participant-set panic_at_s=100 --answers "$WORK/no" \
	--out "$WORK/c.h5"
expect_err "the session was ended"

# 4. A stop key: the first warm press of TSL (key 2) stops at once.
expect_exit 6 "$QST" run "$P" $ID --stop-key 2 --out "$WORK/d.h5"
expect_err "response key 2 (the stop key)"

# 5. Holding is off with --stop-hold 0: the long press is just a press.
expect_exit 0 "$QST" run "$P" $ID --participant-set panic_at_s=100 --stop-hold 0 \
	--out "$WORK/e.h5"

# 6. Ctrl-C on a real-time session: SIGINT mid-ramp.
"$QST" run "$S/session_long_heat.lua" --subject S01 --sex F --age 35 --site hand \
	--clock real --seed 3 --skip-check --out "$WORK/f.h5" 2>"$WORK/log" &
pid=$!
sleep 4
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ "$rc" -eq 6 ] || { cat "$WORK/log"; fail "Ctrl-C: exit $rc, expected 6"; }
grep -q "the operator's stop (Ctrl-C)" "$WORK/log" || { cat "$WORK/log"; fail "no Ctrl-C message"; }
events "$WORK/f.h5" | grep -q "emergency_stop the operator's stop" || fail "no Ctrl-C event"
echo "ok: emergency stop"
