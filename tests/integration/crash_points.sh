# Crash-proof recording (issue 7 item 4): a simulated session is killed
# at 200 seeded write points of the recorder (tests-only hooks,
# station/recorder/faults.c) — half of them as a power cut, which also
# drops everything not fsynced — and 20 more times by a SIGKILL from
# outside at a random moment. After each kill `qst recover` must rebuild
# a file that opens in h5py, holds every trial the operator saw completed,
# identical in every column to the same session run without a kill, and
# a second recover must give the same bytes and the same report.
#
# QST_CRASH_KILLS / QST_CRASH_SEED change the number of kills and the seed.

if [ "${1:-}" = "--one" ]; then
	# One kill: --one DIR N POINT MODE DELAY (POINT 0: external kill).
	set -u
	d=$2/run$3
	mkdir -p "$d"
	cd "$d"
	args="--subject SUBJ01 --sex F --age 35 --site hand --clock virtual --seed 7 --skip-check --out k.h5"
	if [ "$4" -gt 0 ]; then
		QST_TEST_KILL_AT=$4 QST_TEST_KILL_MODE=$5 "$QST" run "$PROTO" $args >/dev/null 2>log
		echo "rc_run=$?" >meta
	else
		timeout -s KILL "$6" "$QST" run "$PROTO" $args >/dev/null 2>log
		echo "rc_run=$?" >meta
	fi
	"$QST" recover k.h5.journal --out rec.h5 >rep1 2>&1
	echo "rc_rec1=$?" >>meta
	cp rec.h5 rec1.h5 2>/dev/null || true
	"$QST" recover k.h5.journal --out rec.h5 --overwrite >rep2 2>&1
	echo "rc_rec2=$?" >>meta
	printf 'point=%s\nmode=%s\ndelay=%s\n' "$4" "$5" "$6" >>meta
	exit 0
fi

. "$(dirname "$0")/lib.sh"
KILLS=${QST_CRASH_KILLS:-200}
SEED=${QST_CRASH_SEED:-20261205}
PROTO="$QST_SRC/tests/scripts/session_quick_wdt.lua"
export QST PROTO
# fsync on a tmpfs is cheap: the disk is not what is tested here (the
# power-cut mode drops the unsynced bytes itself).
D=$(mktemp -d /dev/shm/qst-crash.XXXXXX 2>/dev/null || mktemp -d "$WORK/c.XXXXXX")
trap 'rm -rf "$WORK" "$D"' EXIT

# The same session without a kill: the reference, and how many write
# points a session passes.
(cd "$D" && QST_TEST_KILL_AT=999999999 "$QST" run "$PROTO" --subject SUBJ01 \
	--sex F --age 35 --site hand --clock virtual --seed 7 --skip-check \
	--out ref.h5 >/dev/null 2>ref.log) || { cat "$D/ref.log"; fail "reference run"; }
points=$(sed -n 's/.*test hooks: \([0-9]*\) write points.*/\1/p' "$D/ref.log")
[ "${points:-0}" -gt 50 ] || { cat "$D/ref.log"; fail "no write points counted"; }
wall=$(sed -n 's/.*wall time \([0-9.]*\) s.*/\1/p' "$D/ref.log")

# The plan: every write point once (each kind of point is reached), the
# rest drawn at random; power cut or process kill at random; then the
# outside kills at random delays within the session's wall time.
"$PY" - "$SEED" "$KILLS" "$points" "${wall:-1}" >"$D/plan" <<'PYEOF'
import random, sys
seed, kills, points, wall = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rng = random.Random(seed)
plan = list(range(1, points + 1))
rng.shuffle(plan)
plan = plan[:kills] + [rng.randint(1, points) for _ in range(kills - len(plan))]
for i, p in enumerate(plan):
    print(i, p, rng.choice(["process", "power"]), 0)
for j in range(kills // 10):
    print(kills + j, 0, "outside", f"{rng.uniform(0.02, max(wall, 0.1) * 1.1):.3f}")
PYEOF
t0=$(date +%s)
# Two at a time: the machine's two cores (`tests/CMakeLists.txt` runs
# suites with -j2 too, so this stays modest).
sed "s|^|$D |" "$D/plan" | xargs -P2 -L1 sh "$0" --one
t1=$(date +%s)
"$PY" "$QST_SRC/tests/python/check_crash.py" "$D" "$points" ||
	fail "a kill lost or changed data (see above)"
echo "ok: $(wc -l <"$D/plan") kills in $((t1 - t0)) s of wall time (seed $SEED, $points write points)"
