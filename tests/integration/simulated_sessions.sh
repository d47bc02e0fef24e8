# End to end: the DFNS thermal protocol on the simulated station against
# several virtual participants and seeds. Each file must pass the analyst's
# checks (h5py/pandas), and the recorded thresholds and z-scores must match
# the participant's configured truth.
. "$(dirname "$0")/lib.sh"

for case in "healthy 1" "healthy 2" "healthy 3" "hyperalgesic 4" \
	    "hyperalgesic 5" "hypoesthetic 6" "hypoesthetic 7"; do
	set -- $case
	f="$WORK/$1-$2.h5"
	# Heat/cold hyperalgesia shows best where the reference SDs are
	# narrow: the foot of a man in his forties (qst-domain.md §4.2).
	where=""
	[ "$1" = hyperalgesic ] && where="--sex M --age 45 --site foot"
	run_sim "$f" --participant "$1" --seed "$2" $where >"$WORK/table" 2>"$WORK/log" ||
		{ cat "$WORK/log" >&2; fail "session $1 seed $2 failed"; }
	"$PY" "$QST_SRC/tests/python/check_session.py" "$f" --expect-complete \
		--expect-analysis >/dev/null || fail "analyst check of $f"
	"$PY" "$QST_SRC/tests/python/e2e_truth.py" "$f" || fail "truth check of $f"
	echo "ok: $1 seed $2"
done

# The same seed gives the same session, bit for bit in its trial table.
run_sim "$WORK/again.h5" --participant healthy --seed 1 >/dev/null 2>&1
"$PY" - "$WORK/healthy-1.h5" "$WORK/again.h5" <<'PYEOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
for k in a["trials"]:
    x, y = a["trials"][k][()], b["trials"][k][()]
    if not np.array_equal(x, y, equal_nan=(x.dtype.kind == "f")):
        sys.exit(f"seeded sessions differ in trials/{k}")
PYEOF
echo "ok: seeded sessions reproduce"

# qst analyze is idempotent: twice gives the same /analysis.
"$QST" analyze "$WORK/healthy-1.h5" >"$WORK/a1"
"$QST" analyze "$WORK/healthy-1.h5" >"$WORK/a2"
cmp -s "$WORK/a1" "$WORK/a2" || fail "analyze printed different tables"
"$PY" - "$WORK/healthy-1.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    names = [n.decode() if isinstance(n, bytes) else n for n in f["analysis"]["param"][()]]
    if len(names) != len(set(names)):
        sys.exit("analysis rows duplicated after a second analyze")
PYEOF
echo "ok: analyze idempotent"
