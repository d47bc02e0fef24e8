# The virtual participant's heat pain reaches a protocol script: a heat
# pain ramp, then qst.ask for a rating, answered by the participant with
# the worst pain it felt (docs/simulation.md, "The virtual participant's
# heat pain"). The expected rating is computed here from the recorded
# press temperature and the profile's truth in /simulation, with the
# stimulus-response curve written out again independently.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/heat.lua" <<'LUA'
qst.protocol{ name = "heat rating", devices = { "thermal", "response" } }
qst.limits{ test = "HPT", repetitions = 1 }
local r = qst.ask{ text = "How painful was the heat at its worst? (0-100)",
		   answer = "rating" }
qst.log("heat rating " .. r)
LUA

# A slow reaction (3 s at 1 degC/s) carries the ramp 3 degC past the heat
# pain threshold, to where both profiles rate about 50.
for case in "healthy 21" "sensitized 22"; do
	set -- $case
	f="$WORK/$1.h5"
	"$QST" run "$WORK/heat.lua" --subject SUBJ03 --sex F --age 35 --site hand \
		--participant "$1" --seed "$2" \
		--participant-set rt_mean_s=3,rt_sd_s=0,pain_sd_c=0 \
		--out "$f" >"$WORK/out" 2>"$WORK/log" ||
		{ cat "$WORK/log" >&2; fail "heat.lua with $1 failed"; }
	rating=$(sed -n 's/.*log: heat rating \([0-9]*\).*/\1/p' "$WORK/log")
	[ -n "$rating" ] || { cat "$WORK/log"; fail "$1: no rating logged"; }
	"$PY" - "$f" "$rating" <<'PYEOF' || fail "$1: rating off the truth"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
rating = float(sys.argv[2])
t = {k: float(v) for k, v in f["simulation"].attrs.items() if k != "participant_profile"}
peak = float(f["trials"]["value_measured"][0])
span = t["heat_p50_c"] - t["hpt_c"]
x = max(peak - t["hpt_c"], 0.0) / span
n = 4 * t["heat_slope"] * span / 100
expected = 100 * x**n / (1 + x**n)
# The plate overshoots the press by its lag (< 0.1 degC, ~1.5 points);
# the answer scatters by rating_sd and is rounded.
tol = 1.5 + 3 * t["rating_sd"] + 0.5
print(f"peak {peak:.2f} degC: rated {rating:.0f}, truth {expected:.1f} +- {tol:.1f}")
sys.exit(0 if abs(rating - expected) <= tol and 35 < expected < 65 else 1)
PYEOF
	echo "ok: $1"
done
