# Shared by the integration tests (sourced, not run: it has no test name of
# its own because CTest only picks up *.sh files that are tests — see
# tests/CMakeLists.txt, which skips lib.sh).
set -eu
: "${QST:?QST must point at the qst binary}"
: "${QST_SRC:?QST_SRC must point at the source tree}"
PY="${PYTHON:-/usr/bin/python3}"
WORK=$(mktemp -d /tmp/qst-it.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_exit CODE CMD...: run CMD, require exit status CODE, keep stderr.
expect_exit() {
	want=$1; shift
	set +e
	"$@" >"$WORK/out" 2>"$WORK/err"
	got=$?
	set -e
	if [ "$got" -ne "$want" ]; then
		cat "$WORK/out" "$WORK/err" >&2
		fail "expected exit $want, got $got: $*"
	fi
}

# expect_err TEXT: the last command's stderr mentions TEXT.
expect_err() {
	grep -q -- "$1" "$WORK/err" || { cat "$WORK/err" >&2; fail "stderr lacks '$1'"; }
}

run_sim() { # run_sim OUT [extra args...]
	out=$1; shift
	"$QST" run "$QST_SRC/protocols/dfns_thermal.lua" --subject SUBJ01 --sex F \
		--age 35 --site hand --clock virtual --out "$out" "$@"
}
