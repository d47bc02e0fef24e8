# Bad command lines and bad scripts: a clear message, the documented exit
# status, no crash, and never a corrupt or overwritten session file.
. "$(dirname "$0")/lib.sh"
P="$QST_SRC/protocols/dfns_thermal.lua"
S="$QST_SRC/tests/scripts"

expect_exit 2 "$QST"
expect_exit 2 "$QST" frobnicate;             expect_err "unknown command"
expect_exit 0 "$QST" run --help
expect_exit 2 "$QST" run "$P" --sex F --age 35 --site hand --out "$WORK/x.h5"
expect_err "--subject is required"
expect_exit 2 "$QST" run "$P" --subject Jones --sex F --age 35 --site hand --out "$WORK/x.h5"
expect_err "not a pseudonym"
expect_exit 2 "$QST" run "$P" --subject S01 --sex X --age 35 --site hand --out "$WORK/x.h5"
expect_err "must be F or M"
expect_exit 2 "$QST" run "$P" --subject S01 --sex F --age 200 --site hand --out "$WORK/x.h5"
expect_err "between 1 and 120"
expect_exit 2 "$QST" run "$P" --subject S01 --sex F --age 35 --site elbow --out "$WORK/x.h5"
expect_err "must be face, hand"
expect_exit 2 "$QST" run "$P" --subject S01 --sex F --age 35 --site hand --out "$WORK/x.h5" --bogus
expect_err "unknown or incomplete option"
expect_exit 2 "$QST" run "$P" --subject S01 --sex F --age 35 --site hand --out "$WORK/x.h5" --participant nobody
expect_err "not a built-in profile"
expect_exit 5 "$QST" run "$WORK/missing.lua" --subject S01 --sex F --age 35 --site hand --out "$WORK/x.h5"
expect_err "cannot read protocol"
[ ! -e "$WORK/x.h5" ] || fail "a failed command line left a file behind"

# Never overwrite a session file unless told to.
run_sim "$WORK/s.h5" --seed 3 >/dev/null 2>&1
before=$(sha256sum "$WORK/s.h5")
expect_exit 5 run_sim "$WORK/s.h5" --seed 4;  expect_err "refusing to overwrite"
[ "$(sha256sum "$WORK/s.h5")" = "$before" ] || fail "session file was modified"
[ "$(stat -c %a "$WORK/s.h5")" = 600 ] || fail "session file is not mode 0600"

# A syntax error is caught by the pre-run check: nothing is run or written.
expect_exit 3 "$QST" run "$S/session_syntax.lua" --subject S01 --sex F --age 35 --site hand --out "$WORK/syn.h5"
expect_err "session_syntax.lua:3"
[ ! -e "$WORK/syn.h5" ] || fail "a script with a syntax error produced a file"

# A supervisor refusal is caught by the check too ...
expect_exit 3 "$QST" check "$S/session_refusal.lua"
expect_err "above the station maximum of 50.0"
# ... and when run anyway it is refused, recorded, and the thermode is back at baseline.
expect_exit 3 "$QST" run "$S/session_refusal.lua" --skip-check --subject S01 --sex F --age 35 --site hand --out "$WORK/ref.h5"
expect_err "refused by the safety supervisor"
"$PY" "$QST_SRC/tests/python/check_session.py" "$WORK/ref.h5" >/dev/null || fail "file after refusal"
"$PY" - "$WORK/ref.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    names = list(f["lookup/event_code_names"].asstr()[()])
    codes = [names[c] for c in f["events"]["code"][()]]
    assert "refusal" in codes, codes
    assert f.attrs["complete"] == 0
    t = f["trials"]
    aborted = (t["flags"][()] & 4) != 0  # trial_flag_names bit 2
    assert (~aborted).sum() == 1, "the WDT trial before the refusal is kept"
    # The refused HPT trial is kept as aborted, with no value.
    assert aborted.sum() == 1 and np.isnan(t["value_measured"][()][aborted]).all()
    s = f["temperature"]
    assert np.nanmax(s["commanded_c"][()]) <= 50.0
    assert np.nanmax(s["measured_c"][()]) <= 50.5
PYEOF

# Runaway scripts are stopped; what they recorded before stays valid.
for script in session_loop_after_cdt session_membomb_after_cdt; do
	expect_exit 3 "$QST" run "$S/$script.lua" --skip-check --subject S01 --sex F \
		--age 35 --site hand --out "$WORK/$script.h5"
	expect_err "script stopped"
	"$PY" "$QST_SRC/tests/python/check_session.py" "$WORK/$script.h5" >/dev/null ||
		fail "file after $script is not valid"
	"$PY" -c "import h5py,sys; f=h5py.File(sys.argv[1]); sys.exit(len(f['trials']['trial_id'])!=3)" \
		"$WORK/$script.h5" || fail "$script: the 3 CDT trials are not in the file"
done
echo "ok: bad input handled"

# An output that cannot be written: a clear message, file status 5.
expect_exit 5 run_sim "$WORK/no/such/dir/x.h5" --seed 1 --skip-check
expect_err "cannot create"
echo "ok: unwritable output"

# Hostile script text (issue 7): a clear message, exit 3, and no byte on
# stderr that could drive the operator's terminal; nothing is recorded.
for script in close_handler_loop error_object_meta long_error control_chars \
	section_escape non_utf8 nested_table; do
	expect_exit 3 "$QST" check "$S/$script.lua"
	expect_err "$script.lua"
	expect_exit 3 "$QST" run "$S/$script.lua" --skip-check --subject S01 --sex F \
		--age 35 --site hand --clock virtual --out "$WORK/h-$script.h5"
	expect_err "$script.lua"
	if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$WORK/err"; then
		fail "$script: control bytes on stderr"
	fi
	[ ! -e "$WORK/h-$script.h5" ] || [ "$("$PY" -c "import h5py,sys; print(len(h5py.File(sys.argv[1])['trials']['trial_id']))" "$WORK/h-$script.h5")" = 0 ] ||
		fail "$script: trials recorded"
done
echo "ok: hostile script text"
