# Issue 6: qst.levels{} with null stimuli, qst.staircase{} and
# qst.calibrate{} through the station: the virtual participant answers,
# each presentation is a trial row flagged `adaptive` (null ones `catch`),
# the thresholds come back to the script, and analysis keeps the
# RT-exclusive rows out of the DFNS parameters (qst-domain.md §7.1–§7.5).
. "$(dirname "$0")/lib.sh"
S="$QST_SRC/tests/scripts"
ID="--subject S01 --sex F --age 35 --site hand --clock virtual"

expect_exit 0 "$QST" run "$S/adaptive_methods.lua" $ID --seed 5 \
	--participant-set wdt_delta_c=3.3,hpt_c=44.2,detect_sd_c=0,pain_sd_c=0 \
	--out "$WORK/a.h5"
grep -q "log: levels WDT	3[45]\.[0-9]*	0" "$WORK/err" ||
	{ cat "$WORK/err" >&2; fail "no WDT threshold near 35.3 degC"; }
grep -q "log: staircase HPT	4[345]\.[0-9]*	0" "$WORK/err" ||
	{ cat "$WORK/err" >&2; fail "no HPT threshold near 44.2 degC"; }
grep -q "log: calibrate" "$WORK/err" || fail "calibrate did not return"
"$PY" - "$WORK/a.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    names = list(f["lookup/trial_flag_names"].asstr()[()])
    adaptive = 1 << names.index("adaptive")
    catch = 1 << names.index("catch")
    tests = f["lookup/test_names"].asstr()[()][f["trials/test"][()]]
    flags = f["trials/flags"][()]
    cmd = f["trials/value_commanded"][()]
    resp = f["trials/t_response_ns"][()]
    assert len(flags) > 0 and all(fl & adaptive for fl in flags), flags
    wdt = [i for i, t in enumerate(tests) if t == "WDT"]
    nulls = [i for i in wdt if flags[i] & catch]
    assert nulls, "catch = 0.3 gave no null stimulus"
    for i in nulls:  # the plate stayed at baseline; the participant is silent
        assert cmd[i] == 32.0 and resp[i] < 0, (cmd[i], resp[i])
print("ok")
PYEOF
grep -q "Not done: CDT WDT TSL PHS CPT HPT" "$WORK/out" ||
	{ cat "$WORK/out" >&2; fail "adaptive rows were counted as DFNS values"; }
echo "adaptive methods: ok"
