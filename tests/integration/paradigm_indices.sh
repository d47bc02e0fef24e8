# Issue 6: paradigm indices. A real TSP session (protocols/tsp_heat.lua on
# the simulated station) gets a CPM block and an offset-analgesia pair
# added by the event contract; qst analyze stores /analysis/indices and
# prints them, qst report writes one SVG page per paradigm and the
# indices in CSV and JSON, each value checked against the file's own data
# (tests/python/check_paradigms.py). A file without a paradigm keeps the
# DFNS-only outputs; a damaged /rating is an error, not a crash.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$QST" run "$QST_SRC/protocols/tsp_heat.lua" --subject DEMO02 \
	--sex M --age 41 --site hand --seed 3 --clock virtual --out "$WORK/tsp.h5"
"$PY" "$QST_SRC/tests/python/check_paradigms.py" "$QST" "$WORK/tsp.h5" "$WORK" ||
	fail "check_paradigms.py"
echo "ok: paradigm indices"
