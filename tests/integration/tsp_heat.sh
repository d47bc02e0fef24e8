# Issue 6: the standard TSP script runs on the simulated station and
# records 10 paced pulses, each with its command lateness, its rating and
# its measured peak; a short train on the real clock records real
# lateness; qst.waveform plays a profile, and the supervisor refuses a
# waveform segment over the rate ceiling or the maximum before any byte.
. "$(dirname "$0")/lib.sh"
ID="--subject DEMO01 --sex F --age 35 --site hand"

expect_exit 0 "$QST" run "$QST_SRC/protocols/tsp_heat.lua" $ID --seed 1 \
	--clock virtual --overwrite --out "$WORK/tsp.h5"

"$PY" - "$WORK/tsp.h5" <<'PYEOF'
import re, sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    names = f["lookup/event_code_names"].asstr()[()]
    codes = names[f["events/code"][()]]
    t = f["events/t_ns"][()]
    v = f["events/value"][()]
    v2 = f["events/value2"][()]
    msg = f["events/message"].asstr()[()]
    assert f.attrs["complete"] == 1, "session not complete"
def rows(name):
    return [(t[i], v[i], v2[i], msg[i]) for i in range(len(codes)) if codes[i] == name]
starts = rows("train_start")
assert len(starts) == 1 and starts[0][1] == 10 and abs(starts[0][2] - 0.4) < 1e-12, starts
pulses, ratings, peaks = rows("pulse"), rows("rating"), rows("pulse_peak")
assert [p[1] for p in pulses] == list(range(1, 11)), pulses
assert [r[1] for r in ratings] == list(range(1, 11)), ratings
assert [p[1] for p in peaks] == list(range(1, 11)), peaks
# lateness stored, and the scheduled times 2.5 s apart (0.4 Hz)
sched = []
for tn, k, late, m in pulses:
    assert np.isfinite(late) and 0 <= late < 0.1, (k, late)
    s = float(re.search(r"scheduled ([0-9.]+) s", m).group(1))
    c = float(re.search(r"command ([0-9.]+) s", m).group(1))
    assert abs(c - late - s) < 2e-9 and c <= tn / 1e9, (k, tn, late, s, c)
    sched.append(s)
assert np.allclose(np.diff(sched), 2.5, atol=1e-9), np.diff(sched)
for _, k, r, _ in ratings:
    assert np.isfinite(r) and 0 <= r <= 100, (k, r)
# each rating comes after its own pulse and before the next one
for i, (tr, k, _, _) in enumerate(ratings):
    assert tr > pulses[i][0], k
    assert i == 9 or tr < pulses[i + 1][0], k
for _, k, peak, _ in peaks:
    assert abs(peak - 48.0) < 1.0, (k, peak)
print("tsp_heat: 10 pulses, 10 ratings, lateness stored, peaks", [round(p[2], 2) for p in peaks])
PYEOF

# The virtual participant's heat model sums over the train (docs/
# simulation.md): a sensitized subject rates the last pulses above the first.
expect_exit 0 "$QST" run "$QST_SRC/protocols/tsp_heat.lua" $ID --seed 4 \
	--clock virtual --participant sensitized --out "$WORK/sens.h5"
"$PY" - "$WORK/sens.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    codes = f["lookup/event_code_names"].asstr()[()][f["events/code"][()]]
    r = f["events/value2"][()][codes == "rating"]
assert len(r) == 10 and r[-3:].mean() > r[0], r
print("sensitized ratings", list(r))
PYEOF

# The peak comes from the run when given (qst.option), and an option the
# script never reads is refused before anything runs.
expect_exit 0 "$QST" run "$QST_SRC/protocols/tsp_heat.lua" $ID --seed 1 \
	--clock virtual --set peak_c=46.5 --out "$WORK/tsp465.h5"
"$PY" - "$WORK/tsp465.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    codes = f["lookup/event_code_names"].asstr()[()][f["events/code"][()]]
    v = f["events/value"][()]
    msg = f["events/message"].asstr()[()]
ramps = v[codes == "stim_ramp"]
assert len(ramps) == 10 and np.all(ramps == 46.5), ramps
assert "option peak_c = 46.5" in list(msg), "the option is not recorded"
PYEOF
expect_exit 3 "$QST" run "$QST_SRC/protocols/tsp_heat.lua" $ID --clock virtual \
	--set peak=46.5 --out "$WORK/typo.h5"
expect_err "option 'peak' was given, but .*tsp_heat.lua never reads it"
[ ! -e "$WORK/typo.h5" ] || fail "a run with an unread option produced a file"

# Every pulse goes through the supervisor.
cat >"$WORK/over.lua" <<'LUA'
qst.protocol{ name = "over", version = "1", devices = { "thermal" } }
qst.pulse_train{ peak = 51, baseline = 40, frequency = 0.3, n = 3 }
LUA
expect_exit 3 "$QST" check "$WORK/over.lua"
expect_err "target 51.0 degC is above the station maximum of 50.0 degC"

# A short train on the real clock: the pacer's lateness is real.
cat >"$WORK/short.lua" <<'LUA'
qst.protocol{ name = "short train", version = "1", devices = { "thermal", "response" } }
qst.pulse_train{ peak = 43, baseline = 40, n = 3, frequency = 1, hold = 0.2,
                 rise = 10, fall = 10, rate_after = { 1, 3 } }
LUA
expect_exit 0 "$QST" run "$WORK/short.lua" $ID --seed 2 --clock real --realtime \
	--skip-check --out "$WORK/short.h5"
"$PY" - "$WORK/short.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    codes = f["lookup/event_code_names"].asstr()[()][f["events/code"][()]]
    v, v2 = f["events/value"][()], f["events/value2"][()]
    msg = f["events/message"].asstr()[()]
late = v2[codes == "pulse"]
assert len(late) == 3 and np.all(late >= 0) and np.all(late < 0.1), late
assert list(v[codes == "rating"]) == [1, 3], v[codes == "rating"]
rt = [m for c, m in zip(codes, msg) if c == "realtime"]
assert len(rt) == 1 and "SCHED_FIFO" in rt[0], rt
print("real clock: lateness (us)", [round(x * 1e6, 1) for x in late], "|", rt[0])
PYEOF

# qst.waveform: the thermode follows the profile.
cat >"$WORK/wave.lua" <<'LUA'
qst.protocol{ name = "waveform", version = "1", devices = { "thermal" } }
qst.waveform{ { to = 40, rate = 4 }, { to = 40, duration = 2 },
              { to = 36, duration = 1 }, return_rate = 2 }
LUA
expect_exit 0 "$QST" run "$WORK/wave.lua" $ID --seed 3 --clock virtual --out "$WORK/wave.h5"
"$PY" - "$WORK/wave.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    codes = f["lookup/event_code_names"].asstr()[()][f["events/code"][()]]
    et, v, v2 = f["events/t_s"][()], f["events/value"][()], f["events/value2"][()]
    ts, c = f["temperature/t_s"][()], f["temperature/measured_c"][()]
    cmd = f["temperature/commanded_c"][()]
i = list(codes).index("stim_waveform")
assert v[i] == 40 and v2[i] == 3, (v[i], v2[i])
t0 = et[i]
during = (ts > t0) & (ts < t0 + 7)
assert during.sum() > 500, during.sum()
assert np.max(np.abs(c[during] - cmd[during])) < 0.8, np.max(np.abs(c[during] - cmd[during]))
hold = (ts > t0 + 2.2) & (ts < t0 + 3.9)
assert np.all(np.abs(c[hold] - 40) < 0.3), c[hold]
print("waveform: followed within", round(float(np.max(np.abs(c[during] - cmd[during]))), 2), "degC")
PYEOF

# The supervisor checks every segment before anything is sent.
cat >"$WORK/steep.lua" <<'LUA'
qst.protocol{ name = "steep", version = "1", devices = { "thermal" } }
qst.waveform{ { to = 38, rate = 5 }, { to = 45, duration = 0.5 } }
LUA
expect_exit 3 "$QST" run "$WORK/steep.lua" $ID --clock virtual --skip-check \
	--out "$WORK/steep.h5"
expect_err "waveform segment 2: 38.0 -> 45.0 degC in 0.500 s is 14.00 degC/s, above the 10.0 degC/s ceiling"
"$PY" - "$WORK/steep.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    codes = list(f["lookup/event_code_names"].asstr()[()][f["events/code"][()]])
assert "refusal" in codes and "stim_waveform" not in codes, codes
PYEOF
cat >"$WORK/hot.lua" <<'LUA'
qst.protocol{ name = "hot", version = "1", devices = { "thermal" } }
qst.waveform{ { to = 45, rate = 5 }, { to = 51, rate = 2 } }
LUA
expect_exit 3 "$QST" check "$WORK/hot.lua"
expect_err "waveform segment 2: 51.0 degC is above the station maximum of 50.0 degC"
# --set calibrate=1: the peak is the subject's own Pain5 temperature
# (rated 50/100), which the virtual participant's truth puts at heat_p50_c
# (docs/simulation.md: healthy 47, sensitized 45 degC), within the
# search's 1 degC step.
for who in healthy sensitized; do
	expect_exit 0 "$QST" run "$QST_SRC/protocols/tsp_heat.lua" $ID --seed 1 \
		--clock virtual --participant $who --set calibrate=1 \
		--out "$WORK/cal-$who.h5"
	"$PY" - "$WORK/cal-$who.h5" <<'PYEOF' || fail "calibrated TSP ($who)"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    names = f["lookup/event_code_names"].asstr()[()]
    e = f["events"]
    rows = list(zip(names[e["code"][()]], e["value"][()], e["value2"][()],
                    e["message"].asstr()[()]))
marks = [(v, v2) for c, v, v2, m in rows if c == "mark" and m == "tsp:peak_c"]
assert len(marks) == 1 and marks[0][1] == 1, marks
with h5py.File(sys.argv[1], "r") as f:
    p50 = float(f["simulation"].attrs["heat_p50_c"])
peak = marks[0][0]
ratings = [v2 for c, v, v2, m in rows if c == "rating"]
assert len(ratings) == 10, ratings
assert abs(peak - p50) <= 1.0, (peak, p50)
print(f"calibrated peak {peak} degC (truth {p50}), ratings {ratings}")
PYEOF
done
echo "tsp_heat: ok"
