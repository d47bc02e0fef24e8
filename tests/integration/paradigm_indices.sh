# Issue 6: paradigm indices. A real TSP session (protocols/tsp_heat.lua on
# the simulated station) gets a CPM block and an offset-analgesia pair
# added by the event contract; qst analyze stores /analysis/indices and
# prints them, qst report writes one SVG page per paradigm and the
# indices in CSV and JSON, each value checked against the file's own data
# (tests/python/check_paradigms.py). A file without a paradigm keeps the
# DFNS-only outputs; a damaged /rating is an error, not a crash. Then
# cpm.lua and offset_analgesia.lua, checked by check_paradigm_scripts.py.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$QST" run "$QST_SRC/protocols/tsp_heat.lua" --subject DEMO02 \
	--sex M --age 41 --site hand --seed 3 --clock virtual --out "$WORK/tsp.h5"
"$PY" "$QST_SRC/tests/python/check_paradigms.py" "$QST" "$WORK/tsp.h5" "$WORK" ||
	fail "check_paradigms.py"
echo "ok: paradigm indices"

# The standard paradigm scripts (docs/paradigms.md): what analyze stores
# equals the indices computed from their raw events through their marks.
for script in cpm offset_analgesia; do
	expect_exit 0 "$QST" run "$QST_SRC/protocols/$script.lua" --subject DEMO01 \
		--sex F --age 35 --site hand --seed 1 --clock virtual \
		--participant healthy --out "$WORK/$script.h5"
done
"$PY" "$QST_SRC/tests/python/check_paradigm_scripts.py" "$QST" "$WORK/cpm.h5" \
	"$WORK/offset_analgesia.h5" || fail "check_paradigm_scripts.py"
"$QST" report "$WORK/offset_analgesia.h5" --svg "$WORK/oa.svg" >/dev/null ||
	fail "report on the OA session"
"$PY" -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" \
	"$WORK/oa-oa.svg" || fail "OA page does not parse"
echo "ok: paradigm scripts analysed"
