# The supervisor's rules hold for a protocol's worst case: qst check (and
# the check before qst run) refuses a protocol that could break one, naming
# the step and the rule; with the check skipped, the runtime refuses at the
# same stimulus and keeps every trial done before it.
. "$(dirname "$0")/lib.sh"
S="$QST_SRC/tests/scripts"
ID="--subject S01 --sex F --age 35 --site hand --clock virtual"

# A healthy participant stays far below the dose budget, but the check
# runs the worst case too: nobody presses, every ramp reaches 50 °C.
expect_exit 3 "$QST" check "$S/session_dose.lua"
expect_err "in the worst case"
expect_err "in step 'Heat pain, many repetitions', HPT trial"
expect_err "would exceed the 120 s budget (qst-domain 8.2 interlock 2)"
grep -q "worst case (no responses" "$WORK/out" || fail "check does not print the worst case"

expect_exit 3 "$QST" run "$S/session_dose.lua" $ID --out "$WORK/dose.h5"
expect_err "protocol check failed, nothing was run"
[ ! -e "$WORK/dose.h5" ] || fail "a refused protocol produced a file"

# Runtime: the unresponsive participant drives every ramp to its cut-off.
expect_exit 3 "$QST" run "$S/session_dose.lua" $ID --skip-check \
	--participant unresponsive --seed 5 --out "$WORK/dose.h5"
expect_err "refused by the safety supervisor in step"
"$PY" - "$WORK/dose.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    n = len(f["trials/trial_id"])
    codes = f["lookup/event_code_names"].asstr()[()][f["events/code"][()]]
    msgs = f["events/message"].asstr()[()]
    refusals = [m for c, m in zip(codes, msgs) if c == "refusal"]
    t = f["temperature/t_s"][()]
    c = f["temperature/measured_c"][()]
    assert f.attrs["complete"] == 0, "a refused session is not complete"
# The guarantee, from the recorded plate temperature: at most 120 s above
# 45 °C in any 10 min window (time between samples both above 45 °C).
hot = (c[1:] > 45) & (c[:-1] > 45)
dt = np.diff(t)
ends = t[1:]
worst = max(dt[hot & (ends > e - 600) & (ends <= e)].sum() for e in ends[hot])
assert worst <= 120.0, f"{worst:.1f} s above 45 degC in 10 min"
# Each ramp to 50 °C gives a little under the planned 6 s (plate lag), so
# about 20 fit; the refusal must not come much earlier either.
assert worst > 108.0 and n >= 18, f"refused early: {n} trials, {worst:.1f} s"
assert len(refusals) == 1 and "thermal dose" in refusals[0], refusals
print(f"dose guard: {n} worst-case HPT trials, {worst:.1f} s above 45 degC "
      f"in the worst 10 min; refused: {refusals[0]}")
PYEOF
echo "ok: safety rules"
