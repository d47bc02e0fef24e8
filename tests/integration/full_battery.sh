# The full DFNS battery (protocols/dfns.lua) on the simulated station:
# thermal, mechanical and pressure tests against virtual participants with
# known truths, checked by the analyst's tools, with the LG code each
# profile is built to show (qst-domain.md §5.1).
. "$(dirname "$0")/lib.sh"

for case in "healthy 11 L0G0" "hypoesthetic 12 L3G0" "mech-hyperalgesic 13 L0G2"; do
	set -- $case
	f="$WORK/$1.h5"
	"$QST" run "$QST_SRC/protocols/dfns.lua" --subject SUBJ02 --sex F --age 35 \
		--site hand --participant "$1" --seed "$2" --out "$f" >"$WORK/table" 2>"$WORK/log" ||
		{ cat "$WORK/log" >&2; fail "dfns.lua with $1 failed"; }
	"$PY" "$QST_SRC/tests/python/check_session.py" "$f" --expect-complete \
		--expect-analysis >/dev/null || fail "analyst check of $f"
	"$PY" "$QST_SRC/tests/python/e2e_truth.py" "$f" --expect-lg "$3" || fail "truth check of $f"
	grep -q "$3" "$WORK/table" || { cat "$WORK/table"; fail "printed table lacks $3"; }
	echo "ok: $1"
done

# qst check describes the battery without hardware and without a file.
"$QST" check "$QST_SRC/protocols/dfns.lua" >"$WORK/check"
grep -q "MDT 10" "$WORK/check" || { cat "$WORK/check"; fail "check lacks MDT"; }
grep -q "PPT 3" "$WORK/check" || { cat "$WORK/check"; fail "check lacks PPT"; }
echo "ok: check"
