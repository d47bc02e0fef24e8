# Station files (docs/station-config.md): a file's stricter limits reach
# qst check and qst run, so a protocol that passed on the built-in station
# is refused, naming the step and the rule; the lab's subject-ID pattern
# is enforced; bad files are refused with the key's path and the exit code
# of qst_cli.h; a protocol's qst.safety{} only tightens.
. "$(dirname "$0")/lib.sh"
P="$QST_SRC/protocols"
ID="--sex F --age 35 --site hand --clock virtual --seed 3"
station() { printf '%s\n' "$2" >"$WORK/$1.lua"; echo "$WORK/$1.lua"; }

# The shipped example is valid, and qst config prints what is in force.
expect_exit 0 "$QST" config "$QST_SRC/stations/simulated.lua"
grep -q 'name = "lab-sim-1"' "$WORK/out" || fail "qst config does not print the name"
grep -q 'max_c = 50,' "$WORK/out" || fail "qst config does not print the limits"
# What it prints is itself a station file that prints the same.
cp "$WORK/out" "$WORK/printed.lua"
expect_exit 0 "$QST" config "$WORK/printed.lua"
cmp -s "$WORK/out" "$WORK/printed.lua" || fail "qst config output does not round-trip"
expect_exit 0 "$QST" check --station simulated "$P/dfns_thermal.lua"

# Stricter thermal ceiling: the thermal battery passed, now its worst
# case is refused at the first ramp beyond 47 °C.
expect_exit 0 "$QST" check "$P/dfns_thermal.lua"
hot=$(station hot 'return { name = "cool-lab", limits = { thermal = { max_c = 47 } } }')
expect_exit 3 "$QST" check --station "$hot" "$P/dfns_thermal.lua"
expect_err "in step 'Thermal detection thresholds'"
expect_err "above the station maximum of 47.0 degC"
grep -q "station:   cool-lab" "$WORK/out" || fail "check does not name the station"
expect_exit 3 "$QST" run "$P/dfns_thermal.lua" --station "$hot" --subject S01 $ID \
	--out "$WORK/hot.h5"
expect_err "protocol check failed, nothing was run"
[ ! -e "$WORK/hot.h5" ] || fail "a refused protocol produced a file"

# Not only the check: with it skipped, the session's own supervisor holds
# the station's limit and the trials before the refusal stay recorded.
expect_exit 3 "$QST" run "$P/dfns_thermal.lua" --station "$hot" --subject S01 $ID \
	--skip-check --participant unresponsive --out "$WORK/hot.h5"
expect_err "above the station maximum of 47.0 degC"
[ -e "$WORK/hot.h5" ] || fail "the refused run kept no file"

# Stricter dose budget: the worst case of TSL breaks it.
dose=$(station dose 'return { limits = { thermal = { dose_budget_s = 40 } } }')
expect_exit 3 "$QST" check --station "$dose" "$P/dfns_thermal.lua"
expect_err "would exceed the 40 s budget"

# The mounted probe's pressure ceiling: PPT's worst case presses past it.
kpa=$(station kpa 'return { limits = { pressure = { probe = "small", probes = {
  small = { area_cm2 = 0.5, max_kpa = 1500 }, big = { area_cm2 = 1 } } } } }')
expect_exit 3 "$QST" check --station "$kpa" "$P/dfns.lua"
expect_err "step 'Pressure pain threshold"
expect_err "above the 1500 kPa ceiling"

# The lab's subject pattern; the error gives the hint, not the pattern.
lab=$(station lab 'return { name = "lab-7", lab = { subject_pattern = "^P[0-9]{3}$",
  subject_hint = "P followed by 3 digits" } }')
expect_exit 2 "$QST" run "$P/dfns_thermal.lua" --station "$lab" --subject DEMO01 $ID \
	--out "$WORK/lab.h5"
expect_err "does not follow this lab's subject IDs: P followed by 3 digits"
[ ! -e "$WORK/lab.h5" ] || fail "a refused subject produced a file"
expect_exit 0 "$QST" run "$P/dfns_thermal.lua" --station "$lab" --subject P042 $ID \
	--out "$WORK/lab.h5"
"$PY" - "$WORK/lab.h5" "$lab" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    station = f["metadata"].attrs["station"]
    station = station.decode() if isinstance(station, bytes) else str(station)
    assert station == sys.argv[2], station
PYEOF
# Without a station file, today's rule: a digit somewhere.
expect_exit 2 "$QST" run "$P/dfns_thermal.lua" --subject NODIGIT $ID --out "$WORK/n.h5"
expect_err "include at least one digit"

# Bad files: the key's path and the rule; 3 for a looser limit, 5 else.
loose=$(station loose 'return { limits = { thermal = { max_c = 55 } } }')
expect_exit 3 "$QST" check --station "$loose" "$P/dfns_thermal.lua"
expect_err "limits.thermal.max_c = 55 °C is looser than the built-in limit 50 °C"
typo=$(station typo 'return { limits = { thermal = { max_C = 45 } } }')
expect_exit 5 "$QST" check --station "$typo" "$P/dfns_thermal.lua"
expect_err "limits.thermal.max_C: unknown key; did you mean max_c?"
expect_exit 5 "$QST" config "$typo"
syntax=$(station syntax 'return { name = "x" ')
expect_exit 5 "$QST" config "$syntax"
expect_err "syntax.lua:"
spin=$(station spin 'while true do end')
expect_exit 5 "$QST" config "$spin"
expect_err "instruction budget"
expect_exit 5 "$QST" config "$WORK/missing.lua"
expect_err "cannot read"

# A real driver is parsed and checked on the simulated devices; run opens
# the port, and one that is not there is a device error naming it.
real=$(station real 'return { roles = { thermal = { driver = "tcs2", port = "/dev/qst-no-such-port" } } }')
expect_exit 0 "$QST" check --station "$real" "$P/dfns_thermal.lua"
expect_exit 2 "$QST" run "$P/dfns_thermal.lua" --station "$real" --subject S01 $ID \
	--out "$WORK/real.h5"
expect_err "real devices run on the real clock"
expect_exit 4 "$QST" run "$P/dfns_thermal.lua" --station "$real" --subject S01 \
	--sex F --age 35 --site hand --seed 3 --out "$WORK/real.h5"
expect_err "roles.thermal: cannot open QST.Lab TCS II"
expect_err "/dev/qst-no-such-port"
[ ! -e "$WORK/real.h5" ] || fail "a session file was left for a station that never opened"

# qst.safety{}: tighter holds, looser is refused naming the key.
cat >"$WORK/tight.lua" <<'LUA'
qst.protocol{ name = "tight", version = "1", devices = { "thermal", "response" } }
qst.safety{ max_c = 48, dose_budget_s = 60 }
qst.limits{ test = "HPT", cutoff = 48 }
LUA
expect_exit 0 "$QST" check "$WORK/tight.lua"
grep -q "stricter than built-in: max_c dose_budget_s)" "$WORK/out" ||
	fail "check does not show the tightened limits"
sed 's/cutoff = 48/cutoff = 50/' "$WORK/tight.lua" >"$WORK/tight50.lua"
expect_exit 3 "$QST" check "$WORK/tight50.lua"
expect_err "above the station maximum of 48.0 degC"
expect_exit 3 "$QST" run "$WORK/tight50.lua" --subject S01 $ID --skip-check \
	--participant unresponsive --out "$WORK/tight50.h5"
expect_err "above the station maximum of 48.0 degC"
sed 's/max_c = 48/max_c = 49/' "$WORK/tight.lua" >"$WORK/tight49.lua"
expect_exit 3 "$QST" check --station "$hot" "$WORK/tight49.lua"
expect_err "qst.safety: max_c = 49 °C is looser than the station's 47 °C; a protocol can only tighten"
sed 's/max_c = 48/max_kelvin = 300/' "$WORK/tight.lua" >"$WORK/tightk.lua"
expect_exit 3 "$QST" check "$WORK/tightk.lua"
expect_err "qst.safety: unknown key 'max_kelvin'"
echo "ok: station config"
