# `qst run --station` on real drivers over the serial transport, against
# `qst simulate` (docs/serial.md): a station file puts the tcs2 and xid
# drivers on the pseudo-terminals of two simulators; the run identifies
# both devices, starts the first thermal ramp on the real clock and, when
# stopped with SIGTERM, aborts the thermode and ends as an emergency stop
# (exit 6) with its session file written. The wire log shows the bytes.
. "$(dirname "$0")/lib.sh"

# serve DEVICE NAME: start qst simulate DEVICE; sets NAME_PID and NAME_PTY.
serve() {
	rm -f "$WORK/$2.out"
	"$QST" simulate "$1" >"$WORK/$2.out" 2>"$WORK/$2.err" &
	eval "$2_PID=$!"
	i=0
	while ! grep -q . "$WORK/$2.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$WORK/$2.err" >&2; fail "qst simulate $1 printed no path"; }
		sleep 0.05
	done
	eval "$2_PTY=\$(head -n 1 \"\$WORK/$2.out\")"
}
serve tcs2 TCS
serve xid XID
trap 'kill $TCS_PID $XID_PID 2>/dev/null; rm -rf "$WORK"' EXIT

cat >"$WORK/station.lua" <<LUA
return {
  name = "pty-station",
  roles = {
    thermal = { driver = "tcs2", port = "$TCS_PTY" },
    response = { driver = "xid", port = "$XID_PTY" },
    pressure = { driver = "none" }, vibration = { driver = "none" },
    rating = { driver = "none" }, sync = { driver = "none" },
  },
}
LUA
expect_exit 0 "$QST" config "$WORK/station.lua"

# --skip-check: the pre-run dry run refuses a station of real devices
# on its virtual clock (noted for the lead).
"$QST" run "$QST_SRC/protocols/dfns_thermal.lua" --station "$WORK/station.lua" \
	--subject S01 --sex F --age 30 --site hand --clock real --skip-check \
	--out "$WORK/s.h5" --wire-log "$WORK/wire.log" \
	>"$WORK/run.out" 2>"$WORK/run.err" &
RUN=$!
# Wait for the first stimulus and a second of its 100 Hz readback.
i=0
while ! grep -q "^[0-9]* thermal > L$" "$WORK/wire.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 400 ] || { kill $RUN; cat "$WORK/run.err" >&2; fail "no ramp started within 20 s"; }
	kill -0 $RUN 2>/dev/null || { cat "$WORK/run.err" >&2; fail "qst run ended early"; }
	sleep 0.05
done
sleep 1
kill -TERM $RUN
set +e
wait $RUN
status=$?
set -e
[ $status -eq 6 ] || { cat "$WORK/run.err" >&2; fail "exit $status after SIGTERM, want 6 (emergency stop)"; }
[ -s "$WORK/s.h5" ] || fail "no session file"

W="$WORK/wire.log"
grep -q "thermal > ?" "$W" || fail "the TCS was not asked who it is"
grep -q 'thermal < .*\\x0dTCS' "$W" || fail "the TCS did not answer TCS"
grep -q "response > _c1" "$W" || fail "the XID pad was not probed"
grep -q "response < _xid0" "$W" || fail "the XID pad did not answer _xid0"
# After L: the 100 Hz temperature stream, then the abort of the stop.
lines=$(awk '/ thermal > L$/ { on = 1; next } on && / thermal < / { n++ } END { print n + 0 }' "$W")
[ "$lines" -ge 50 ] || fail "$lines readback chunks after the ramp started, want >= 50"
awk '/ thermal > L$/ { on = 1 } on && / thermal > A$/ { found = 1 } END { exit !found }' "$W" ||
	fail "the thermode was not aborted at the stop"
echo "simulate_station: ok"
