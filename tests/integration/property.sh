# Property test (tests/prop/prop_supervisor.py): 200 generated protocol
# scripts with random, boundary and adversarial parameters run on the
# simulated station with --skip-check; every command in their wire logs
# must obey the safety supervisor's rules, and no watchdog may fire on the
# healthy simulated devices.
. "$(dirname "$0")/lib.sh"
"$PY" "$QST_SRC/tests/prop/prop_supervisor.py" --n 200 --seed 1 --jobs 2 \
	--keep "$WORK/prop" || fail "property test"
