# Output files: session files, journals, wire logs, report SVGs and
# recovered files are created mode 0600, never replace an existing file
# (or follow a symlink planted at the name) without --overwrite, and a
# failure leaves no partial file and no temporary one.
. "$(dirname "$0")/lib.sh"
umask 022  # the modes below must not come from a strict umask

mode() { stat -c %a "$1"; }
no_temp() { # no hidden write-then-rename leftovers in the directory
	! ls -A "$WORK" | grep -q '^\.' || { ls -A "$WORK" >&2; fail "temporary file left: $1"; }
}

# A session with a wire log: all three files private.
run_sim "$WORK/s.h5" --seed 2 --wire-log "$WORK/wire.log" >/dev/null 2>&1 || fail "run"
[ "$(mode "$WORK/s.h5")" = 600 ] || fail "session file mode $(mode "$WORK/s.h5")"
[ "$(mode "$WORK/s.h5.journal")" = 600 ] || fail "journal mode"
[ "$(mode "$WORK/wire.log")" = 600 ] || fail "wire log mode $(mode "$WORK/wire.log")"

# The wire log is not overwritten silently ...
before=$(sha256sum <"$WORK/wire.log")
expect_exit 5 run_sim "$WORK/s2.h5" --seed 2 --wire-log "$WORK/wire.log"
expect_err "wire log $WORK/wire.log exists; refusing to overwrite"
[ "$(sha256sum <"$WORK/wire.log")" = "$before" ] || fail "wire log was modified"
[ ! -e "$WORK/s2.h5" ] || fail "a refused run left a session file"
# ... nor is a symlink at its name followed, even with --overwrite.
echo keep >"$WORK/victim"
ln -s "$WORK/victim" "$WORK/wlink"
expect_exit 5 run_sim "$WORK/s3.h5" --seed 2 --wire-log "$WORK/wlink"
[ "$(cat "$WORK/victim")" = keep ] || fail "the wire log followed a symlink"
rm -f "$WORK/s3.h5" "$WORK/s3.h5.journal"
run_sim "$WORK/s3.h5" --seed 2 --overwrite --wire-log "$WORK/wlink" >/dev/null 2>&1 ||
	fail "run with --overwrite"
[ "$(cat "$WORK/victim")" = keep ] || fail "--overwrite wrote through a symlink"
[ ! -L "$WORK/wlink" ] && [ "$(mode "$WORK/wlink")" = 600 ] || fail "wire log not replaced"

# A symlink at the session file's name is refused, and not followed.
ln -s "$WORK/victim" "$WORK/slink.h5"
expect_exit 5 run_sim "$WORK/slink.h5" --seed 2
[ "$(cat "$WORK/victim")" = keep ] || fail "the session file followed a symlink"

# Report: the SVG is 0600, not overwritten without --overwrite, a symlink
# is replaced rather than written through, and nothing is left on failure.
"$QST" report "$WORK/s.h5" --svg "$WORK/p.svg" >/dev/null || fail "report"
[ "$(mode "$WORK/p.svg")" = 600 ] || fail "SVG mode $(mode "$WORK/p.svg")"
before=$(sha256sum <"$WORK/p.svg")
expect_exit 5 "$QST" report "$WORK/s.h5" --svg "$WORK/p.svg"
expect_err "p.svg exists; refusing to overwrite"
"$QST" report "$WORK/s.h5" --svg "$WORK/p.svg" --overwrite >/dev/null || fail "report --overwrite"
[ "$(sha256sum <"$WORK/p.svg")" = "$before" ] || fail "the report is not reproducible"
ln -s "$WORK/victim" "$WORK/plink.svg"
expect_exit 5 "$QST" report "$WORK/s.h5" --svg "$WORK/plink.svg"
"$QST" report "$WORK/s.h5" --svg "$WORK/plink.svg" --overwrite >/dev/null || fail "report over a symlink"
[ "$(cat "$WORK/victim")" = keep ] || fail "the report wrote through a symlink"
[ ! -L "$WORK/plink.svg" ] || fail "the symlink is still there"
expect_exit 5 "$QST" report "$WORK/s.h5" --svg "$WORK/no/such/dir/p.svg"
expect_err "cannot write"
mkdir "$WORK/ro" && chmod 500 "$WORK/ro"
if [ ! -w "$WORK/ro" ]; then  # root writes anyway: then this check is moot
	expect_exit 5 "$QST" report "$WORK/s.h5" --svg "$WORK/ro/p.svg"
	[ -z "$(ls -A "$WORK/ro")" ] || fail "a failed report left a file"
fi
no_temp "report"

# Analyze replaces the file only when the new /analysis is complete, and
# keeps its mode.
chmod 640 "$WORK/s.h5"
"$QST" analyze "$WORK/s.h5" >/dev/null || fail "analyze"
[ "$(mode "$WORK/s.h5")" = 640 ] || fail "analyze changed the mode to $(mode "$WORK/s.h5")"
no_temp "analyze"

# Recover: 0600, refuses an existing output or a symlink, replaces it only
# with --overwrite, and a bad journal leaves nothing.
"$QST" recover "$WORK/s.h5.journal" --out "$WORK/r.h5" >/dev/null || fail "recover"
[ "$(mode "$WORK/r.h5")" = 600 ] || fail "recovered file mode"
expect_exit 5 "$QST" recover "$WORK/s.h5.journal" --out "$WORK/r.h5"
expect_err "exists; refusing to overwrite"
ln -s "$WORK/victim" "$WORK/rlink.h5"
expect_exit 5 "$QST" recover "$WORK/s.h5.journal" --out "$WORK/rlink.h5"
"$QST" recover "$WORK/s.h5.journal" --out "$WORK/rlink.h5" --overwrite >/dev/null ||
	fail "recover --overwrite over a symlink"
[ "$(cat "$WORK/victim")" = keep ] || fail "recover wrote through a symlink"
[ ! -L "$WORK/rlink.h5" ] && [ "$(mode "$WORK/rlink.h5")" = 600 ] || fail "not replaced"
head -c 2000 "$WORK/s.h5.journal" >"$WORK/bad.journal"
printf 'garbage in the middle\n' >>"$WORK/bad.journal"
tail -c 2000 "$WORK/s.h5.journal" >>"$WORK/bad.journal"
before=$(sha256sum <"$WORK/r.h5")
expect_exit 5 "$QST" recover "$WORK/bad.journal" --out "$WORK/r.h5" --overwrite
[ "$(sha256sum <"$WORK/r.h5")" = "$before" ] || fail "a failed recover replaced its output"
expect_exit 5 "$QST" recover "$WORK/bad.journal" --out "$WORK/r2.h5"
[ ! -e "$WORK/r2.h5" ] || fail "a failed recover left a file"
no_temp "recover"
echo "ok: file safety"
