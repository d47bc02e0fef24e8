# Hostile input: damaged session files and journals give a clear error
# naming the file and a documented exit status -- never a crash, a hang,
# HDF5's error stack or a partial output file (tests/python/corrupt_files.py
# makes the variants and checks every run; its docstring lists the knobs).
. "$(dirname "$0")/lib.sh"

"$QST" run "$QST_SRC/protocols/dfns.lua" --subject SUBJ01 --sex F --age 35 \
	--site hand --seed 1 --clock virtual --out "$WORK/good.h5" >/dev/null 2>&1 ||
	fail "the reference session did not run"
"$QST" analyze "$WORK/good.h5" >/dev/null || fail "cannot analyse the reference"
# The whole session's journal with the thermode and algometer streams
# thinned to their first 200 and 100 samples: every kind of record and all
# 104 trials, and recovering it stays quick.
awk '$1 == "s" && ++ns > 200 { next } $1 == "p" && ++np > 100 { next } { print }' \
	"$WORK/good.h5.journal" >"$WORK/good.journal"
"$QST" recover "$WORK/good.journal" --out "$WORK/check.h5" >/dev/null ||
	fail "cannot recover the reference journal"

mkdir "$WORK/v"
"$PY" "$QST_SRC/tests/python/corrupt_files.py" "$QST" "$WORK/good.h5" \
	"$WORK/good.journal" "$WORK/v" || fail "the sweep found problems"
echo "ok: corrupt files handled"
