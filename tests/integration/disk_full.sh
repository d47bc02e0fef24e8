# A full disk (issue 7 item 4): the session stops stimulating, says so,
# pauses and retries; it resumes when the write succeeds, or ends with
# exit 7 after 10 minutes. Nothing written before is lost and the
# journal never keeps a torn line.
#  1. injected ENOSPC (QST_TEST_FAIL_WRITE, station/recorder/faults.c)
#     at several journal writes, space back after 3 retries: resumed;
#     An HDF5 failure alone (QST_TEST_FAIL_H5): rebuilt from the journal;
#  2. injected ENOSPC that never goes away: ended, exit 7;
#  3. a real full file system (tmpfs of 300 KiB to 1.1 MiB), as root
#     and may mount; skipped with a message otherwise.
. "$(dirname "$0")/lib.sh"
P="$QST_SRC/protocols/dfns_thermal.lua"
CHECK="$QST_SRC/tests/python/check_disk_full.py"

session() { # session OUT: the same session every time
	"$QST" run "$P" --subject SUBJ01 --sex F --age 35 --site hand \
		--clock virtual --seed 3 --skip-check --out "$1"
}

# expect_paused LOG: the operator was told, in one line.
expect_paused() {
	grep -q "DISK FULL: .*stimulation stopped, session paused; nothing recorded so far is lost" "$1" ||
		{ cat "$1" >&2; fail "no DISK FULL line in $1"; }
}

session "$WORK/ref.h5" >/dev/null 2>"$WORK/ref.log" || { cat "$WORK/ref.log"; fail "reference run"; }

# 1. Journal writes: 1 header, 2-7 the six devices of the simulated
#    station, 8-25 the 18 trials, 26 the session's end; the injected
#    failure cuts the write half way.
for n in 8 11 16 23 26; do
	f="$WORK/inj$n.h5"
	QST_TEST_FAIL_WRITE=$n:3 session "$f" >/dev/null 2>"$WORK/inj$n.log" ||
		{ cat "$WORK/inj$n.log"; fail "write $n: the session did not resume"; }
	expect_paused "$WORK/inj$n.log"
	grep -q "recording resumed" "$WORK/inj$n.log" || fail "write $n: no resume line"
	"$QST" recover "$f.journal" --out "$WORK/inj$n.rec.h5" >/dev/null ||
		fail "write $n: recover"
	"$PY" "$CHECK" "$WORK/ref.h5" "$WORK/inj$n.log" "$f.journal" \
		"$WORK/inj$n.rec.h5" resumed "$f" || fail "write $n"
done

# 1b. The HDF5 side fails first (8th flush), the journal still has room:
#     the session goes on in the journal, and at its end the file is
#     rebuilt from it — the same trials, bit for bit, as the reference.
f="$WORK/h5fail.h5"
QST_TEST_FAIL_H5=8
export QST_TEST_FAIL_H5
session "$f" >/dev/null 2>"$WORK/h5fail.log" || { cat "$WORK/h5fail.log"; fail "HDF5 failure ended the session"; }
unset QST_TEST_FAIL_H5
grep -q "rebuilt from its journal: 18 trials" "$WORK/h5fail.log" ||
	{ cat "$WORK/h5fail.log"; fail "the file was not rebuilt from its journal"; }
"$PY" - "$WORK/ref.h5" "$f" <<'PYEOF' || fail "the rebuilt file differs"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    assert b.attrs["complete"] == 1, "rebuilt file not complete"
    for t in ("trials", "temperature", "devices"):
        for k in a[t]:
            x, y = a[t][k][()], b[t][k][()]
            assert len(x) == len(y) and (x.dtype == object and list(x) == list(y)
                or np.array_equal(x, y, equal_nan=x.dtype.kind == "f")), f"/{t}/{k}"
PYEOF

# 2. The disk stays full from the 12th write on.
f="$WORK/full.h5"
QST_TEST_FAIL_WRITE=12:0
export QST_TEST_FAIL_WRITE
expect_exit 7 session "$f"
unset QST_TEST_FAIL_WRITE
cp "$WORK/err" "$WORK/full.log"
expect_paused "$WORK/full.log"
expect_err "still could not be written after 10 min; the session was ended"
"$QST" recover "$f.journal" --out "$WORK/full.rec.h5" >/dev/null || fail "recover after exit 7"
"$PY" "$CHECK" "$WORK/ref.h5" "$WORK/full.log" "$f.journal" "$WORK/full.rec.h5" \
	ended "$f" || fail "disk full for good"

# 3. A real file system that fills up: the HDF5 file or the journal
#    runs out first, whichever it is the journal has every shown trial.
M="$WORK/mnt"
mkdir "$M"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$M" 2>/dev/null; then
	echo "SKIP (part 3): not root or cannot mount a tmpfs; the injected failures above ran"
	echo "ok: disk full (injected only)"
	exit 0
fi
trap 'umount "$M" 2>/dev/null || true; rm -rf "$WORK"' EXIT
umount "$M"
# A sweep of sizes, so the disk fills at different moments: in the
# journal, in the HDF5 file, or while /analysis is written after the
# session (a size near 890 KiB once crashed HDF5's exit handler).
sizes=0
for kib in $(seq 300 80 1100) 890 900; do
	mount -t tmpfs -o size=${kib}k tmpfs "$M"
	set +e
	session "$M/s.h5" >/dev/null 2>"$WORK/real.log"
	rc=$?
	set -e
	[ "$rc" -eq 7 ] || { cat "$WORK/real.log"; fail "${kib} KiB: exit $rc, expected 7"; }
	expect_paused "$WORK/real.log"
	"$QST" recover "$M/s.h5.journal" --out "$WORK/real.rec.h5" --overwrite >/dev/null ||
		fail "${kib} KiB: recover from the full file system"
	"$PY" "$CHECK" "$WORK/ref.h5" "$WORK/real.log" "$M/s.h5.journal" \
		"$WORK/real.rec.h5" ended >/dev/null || fail "${kib} KiB: real full disk"
	umount "$M"
	sizes=$((sizes + 1))
done
echo "ok: disk full (injected at 6 journal writes; a real tmpfs of $sizes sizes, 300-1100 KiB)"
