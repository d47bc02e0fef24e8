# qst simulate: a simulated TCS II served on a pseudo-terminal on the real
# clock (docs/serial.md). A lab-style client (tests/python/tcs_pty_client.py)
# finds the terminal raw, identifies the device, runs a ramp and sees the
# 100 Hz temperature lines, leaves and comes back; SIGTERM ends the server
# with status 0; bad arguments are usage errors.
. "$(dirname "$0")/lib.sh"

expect_exit 2 "$QST" simulate
expect_exit 2 "$QST" simulate nosuchdevice
expect_err "no simulator for 'nosuchdevice'"
expect_exit 2 "$QST" simulate tcs2 --fault sideways@1
expect_err "KIND is stall"
expect_exit 2 "$QST" simulate xid --fault diverge@1
expect_err "cannot develop a diverge fault"
expect_exit 2 "$QST" simulate tcs2 --seed -4
expect_exit 0 "$QST" simulate --help
grep -q "tcs2" "$WORK/out" || fail "simulate --help does not list tcs2"

# start_sim DEVICE [args]: run qst simulate in the background; sets PID
# and PTY (the path it printed first).
start_sim() {
	# The redirection happens in the background job: a file left from
	# the last start could be read before it is truncated.
	rm -f "$WORK/sim.out"
	"$QST" simulate "$@" >"$WORK/sim.out" 2>"$WORK/sim.err" &
	PID=$!
	i=0
	while ! grep -q . "$WORK/sim.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$WORK/sim.err" >&2; fail "no path printed"; }
		kill -0 $PID 2>/dev/null || { cat "$WORK/sim.err" >&2; fail "qst simulate died"; }
		sleep 0.05
	done
	PTY=$(head -n 1 "$WORK/sim.out")
	[ -c "$PTY" ] || fail "'$PTY' is not a character device"
}

# stop_sim SIGNAL: send it, require exit status 0 within 5 s.
stop_sim() {
	kill -"$1" $PID
	i=0
	while kill -0 $PID 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { kill -KILL $PID; fail "qst simulate ignored SIG$1"; }
		sleep 0.05
	done
	set +e
	wait $PID
	status=$?
	set -e
	[ $status -eq 0 ] || { cat "$WORK/sim.err" >&2; fail "exit $status after SIG$1"; }
}

start_sim tcs2 --seed 7
"$PY" "$QST_SRC/tests/python/tcs_pty_client.py" "$PTY" ||
	{ cat "$WORK/sim.err" >&2; fail "TCS client against $PTY"; }
stop_sim TERM

# Waiting costs nothing: with no client, one second of serving (a wake
# every 50 ms to look for one) uses well under a tenth of a second of CPU.
# /proc/PID/stat fields 14 and 15: user and system time in clock ticks.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' /proc/$1/stat; }
idle_check() {
	before=$(cpu_s $PID)
	sleep 1
	after=$(cpu_s $PID)
	awk -v a="$before" -v b="$after" 'BEGIN { exit !(b - a < 0.1) }' ||
		fail "qst simulate $1 used $before -> $after s of CPU in 1 s idle"
}
start_sim tcs2
idle_check tcs2
stop_sim TERM

# SIGINT too, and with no client ever connected.
start_sim xid
idle_check xid
stop_sim INT

# The slider streams as it is swept; the trigger box takes bytes.
start_sim evas
"$PY" - "$PTY" <<'PYEOF' || fail "eVAS lines"
import os, re, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
time.sleep(0.5)
lines = re.findall(rb"(\d+)\r\n", os.read(fd, 65536))
sys.exit(0 if len(lines) >= 10 else "%d eVAS lines in 0.5 s" % len(lines))
PYEOF
stop_sim TERM
start_sim trigger
"$PY" -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY); sys.exit(os.write(fd, b"\x05\x00") != 2)' "$PTY" ||
	fail "writing to the trigger box"
stop_sim TERM

# A disconnect fault unplugs the device: the terminal goes and qst
# simulate ends by itself, with status 0.
start_sim tcs2 --fault disconnect@0.3
i=0
while kill -0 $PID 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { kill -KILL $PID; fail "no exit after the disconnect fault"; }
	sleep 0.05
done
wait $PID || fail "exit $? after the disconnect fault"
grep -q "disconnected" "$WORK/sim.err" || fail "the disconnect was not reported"
echo "simulate: ok"
