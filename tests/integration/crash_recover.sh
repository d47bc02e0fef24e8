# SIGKILL in the middle of a real-time session; `qst recover` rebuilds the
# file from the journal with every trial the operator saw completed.
. "$(dirname "$0")/lib.sh"
S="$QST_SRC/tests/scripts"

# DELAY seconds after the first trial was shown (once it is on disk, at
# about 3 s; later under a sanitizer or a loaded machine).
for delay in 1 3; do
	f="$WORK/crash$delay.h5"
	"$QST" run "$S/session_quick_wdt.lua" --skip-check --clock real --seed $delay \
		--subject S01 --sex M --age 40 --site foot --out "$f" 2>"$WORK/log" &
	pid=$!
	i=0
	until grep -q "WDT *1/" "$WORK/log" 2>/dev/null || [ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep $delay
	kill -KILL $pid
	wait $pid 2>/dev/null || true
	done_trials=$(grep -c "WDT *[0-9]*/[0-9]* *[0-9.]* °C" "$WORK/log" || true)
	[ "$done_trials" -ge 1 ] || { cat "$WORK/log"; fail "no trial finished in ${delay} s"; }
	"$QST" recover "$f.journal" --out "$WORK/rec$delay.h5" >"$WORK/rep" ||
		fail "recover failed"
	cat "$WORK/rep"
	"$PY" "$QST_SRC/tests/python/check_session.py" "$WORK/rec$delay.h5" >/dev/null ||
		fail "recovered file is not valid"
	# Every trial printed as completed is in the recovered file, same value.
	grep "WDT *[0-9]*/[0-9]* *[0-9.]* °C" "$WORK/log" | sed 's/.*WDT *\([0-9]*\)\/[0-9]* *\([0-9.]*\) °C.*/\1 \2/' >"$WORK/seen"
	"$PY" - "$WORK/rec$delay.h5" "$WORK/seen" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    rep = f["trials"]["repetition"][()]
    val = f["trials"]["value_measured"][()]
    assert f.attrs["complete"] == 0, "a killed session must not be marked complete"
got = {int(r): float(v) for r, v in zip(rep, val)}
for line in open(sys.argv[2]):
    r, v = line.split()
    assert int(r) in got, f"trial {r} completed before the kill is missing"
    assert abs(got[int(r)] - float(v)) < 0.006, f"trial {r}: {got[int(r)]} vs {v}"
print(f"{len(got)} trials recovered, all {sum(1 for _ in open(sys.argv[2]))} seen trials present")
PYEOF
	# recover refuses to overwrite, and is idempotent with --overwrite.
	expect_exit 5 "$QST" recover "$f.journal" --out "$WORK/rec$delay.h5"
	"$QST" recover "$f.journal" --out "$WORK/rec$delay.h5" --overwrite >/dev/null
	"$QST" analyze "$WORK/rec$delay.h5" >/dev/null || fail "analyze of a recovered file"
done
echo "ok: crash and recover"
