# Issue 6: the standard paradigm scripts (protocols/tsp_heat.lua, cpm.lua,
# offset_analgesia.lua, dfns_levels.lua) on the simulated station, for
# the healthy and the sensitized virtual participant with the same seed.
# tests/python/paradigm_truth.py computes TSP_diff, CPM_abs and OA_abs
# from the raw events and the /rating stream through the scripts' marks
# (docs/paradigms.md) and checks them against the truths of
# docs/simulation.md and the direction that separates the profiles.
. "$(dirname "$0")/lib.sh"
ID="--subject DEMO01 --sex F --age 35 --site hand --clock virtual"
P="$QST_SRC/protocols"

for script in tsp_heat cpm offset_analgesia dfns_levels; do
	expect_exit 0 "$QST" check "$P/$script.lua"
done

run_pair() { # run_pair SCRIPT KIND [extra args...]
	script=$1 kind=$2; shift 2
	for who in healthy sensitized; do
		expect_exit 0 "$QST" run "$P/$script.lua" $ID --seed 1 \
			--participant $who --overwrite --out "$WORK/$script-$who.h5" "$@"
	done
	"$PY" "$QST_SRC/tests/python/paradigm_truth.py" "$kind" \
		"$WORK/$script-healthy.h5" "$WORK/$script-sensitized.h5" ||
		fail "$kind: indices off the truth or not separated"
}

echo "TSP (tsp_heat.lua, 10 pulses 40 -> 48 degC at 0.4 Hz):"
run_pair tsp_heat tsp
echo "CPM (cpm.lua, parallel, TS calibrated to NRS 60):"
run_pair cpm cpm
echo "OA (offset_analgesia.lua, T = 46 degC):"
run_pair offset_analgesia oa

# The sequential design: no TS during the bath, the after block is the
# conditioned one; a shortened session (one calibration, short waits, a
# 1 s TS straight after the bath, ~7 s before the conditioning has
# faded to half, cpm_tau_s = 10 s).
echo "CPM, sequential design:"
run_pair cpm cpm-sequential --set sequential=1 --set repeats=1 --set rest_s=0 \
	--set cs_s=30 --set after_s=0 --set ts_hold_s=1
"$PY" - "$WORK/cpm-healthy.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    codes = f["lookup/event_code_names"].asstr()[()][f["events/code"][()]]
    msg = list(f["events/message"].asstr()[()][codes == "mark"])
    t = f["events/t_s"][()]
    cond = t[codes == "condition"]
    marks = dict(zip(msg, t[codes == "mark"]))
assert "cpm:during" not in marks and len(cond) == 2, (marks, cond)
assert abs(cond[1] - cond[0] - 30) < 1e-6 and marks["cpm:after"] >= cond[1], (marks, cond)
PYEOF

# A calibration that cannot reach NRS 60 within 43-49 degC (a participant
# who feels no heat pain) falls back to ts_c and says so with a mark.
expect_exit 0 "$QST" run "$P/cpm.lua" $ID --seed 1 --participant unresponsive \
	--set ts_c=44.5 --set repeats=1 --out "$WORK/fallback.h5"
"$PY" - "$WORK/fallback.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    codes = f["lookup/event_code_names"].asstr()[()][f["events/code"][()]]
    v = f["events/value"][()][codes == "mark"]
    msg = list(f["events/message"].asstr()[()][codes == "mark"])
assert msg[0] == "cpm:calibration_failed" and v[0] == 44.5, (msg, v)
assert msg[1] == "cpm:ts_c" and v[1] == 44.5, (msg, v)
PYEOF

# The method of levels against the participant's detection thresholds.
echo "Method of levels (dfns_levels.lua):"
expect_exit 0 "$QST" run "$P/dfns_levels.lua" $ID --seed 1 --out "$WORK/levels.h5"
"$PY" "$QST_SRC/tests/python/paradigm_truth.py" levels "$WORK/levels.h5" ||
	fail "levels: thresholds off the truth"

# qst.mark and qst.condition refuse what they cannot record.
cat >"$WORK/bad.lua" <<'LUA'
qst.protocol{ name = "bad", version = "1", devices = { "thermal" } }
local ok, e = pcall(qst.mark, "")
assert(not ok and e:find("label must not be empty"), e)
ok, e = pcall(qst.mark, "x", "1")
assert(not ok and e:find("value 1 must be a number"), e)
ok, e = pcall(qst.condition, { on = true, intensity = 1.5 })
assert(not ok and e:find("intensity = 1.5"), e)
ok, e = pcall(qst.condition, { intensity = 1 })
assert(not ok and e:find("on is required"), e)
qst.mark("x\tlabel", 1)
LUA
expect_exit 0 "$QST" run "$WORK/bad.lua" $ID --seed 1 --out "$WORK/bad.h5"
echo "paradigms: ok"
