# qst report and qst analyze --group on simulated thermal sessions: the SVG
# profile parses as XML with one mark per parameter (check_report.py), the
# CSV reads with pandas, the JSON with json.tool, and the group test runs
# over three seeds.
. "$(dirname "$0")/lib.sh"

for seed in 1 2 3; do
	run_sim "$WORK/s$seed.h5" --seed "$seed" >/dev/null 2>"$WORK/log" ||
		{ cat "$WORK/log" >&2; fail "session seed $seed failed"; }
done
f="$WORK/s1.h5"

# Default: the table on stdout, the profile next to the file.
"$QST" report "$f" >"$WORK/table" || fail "qst report failed"
[ -s "$WORK/s1.profile.svg" ] || fail "no default profile $WORK/s1.profile.svg"
grep -q "^Loss/gain code: L[0-3]G[0-3]" "$WORK/table" || fail "table lacks the LG code"
grep -q "Profile: $WORK/s1.profile.svg" "$WORK/table" || fail "table does not name the SVG"

# --svg, --csv, --json.
"$QST" report "$f" --svg "$WORK/p.svg" --csv >"$WORK/p.csv" || fail "report --csv"
"$QST" report "$f" --svg "$WORK/p.svg" --overwrite --json >"$WORK/p.json" || fail "report --json"
cmp -s "$WORK/p.svg" "$WORK/s1.profile.svg" || fail "same file gave a different SVG"
"$PY" -m json.tool "$WORK/p.json" >/dev/null || fail "JSON does not parse"
"$PY" - "$WORK/p.csv" <<'PYEOF' || fail "CSV does not read with pandas"
import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
assert len(df) == 13, len(df)
assert df["z"].notna().sum() == 5, df["z"]          # CDT WDT TSL CPT HPT
assert (df["ref_table_id"] == "dfns-s13s14-v1").all()
PYEOF
"$PY" "$QST_SRC/tests/python/check_report.py" "$WORK/p.svg" --h5 "$f" \
	--json "$WORK/p.json" --csv "$WORK/p.csv" || fail "check_report.py"
echo "ok: report svg/csv/json"

# Bad input: clear errors, not crashes.
expect_exit 2 "$QST" report
expect_exit 2 "$QST" report "$f" --csv --json
expect_exit 5 "$QST" report "$WORK/missing.h5"
expect_err "missing.h5"
"$PY" - "$WORK/s2.h5" "$WORK/noan.h5" <<'PYEOF'
import shutil, sys, h5py
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    del f["analysis"]
PYEOF
expect_exit 5 "$QST" report "$WORK/noan.h5"
expect_err "qst analyze"
echo "ok: report errors"

# Group test over three seeds.
"$QST" analyze --group "$WORK/s1.h5" "$WORK/s2.h5" "$WORK/s3.h5" >"$WORK/group" ||
	{ cat "$WORK/group" >&2; fail "analyze --group"; }
grep -q "Magerl 2010 method B" "$WORK/group" || fail "group table header"
grep -Eq "^CDT +3 " "$WORK/group" || { cat "$WORK/group" >&2; fail "CDT n != 3"; }
grep -Eq "^MDT +0 .*not done" "$WORK/group" || fail "MDT row"
"$QST" analyze --group "$WORK/s1.h5" "$WORK/s2.h5" "$WORK/s3.h5" --csv >"$WORK/group.csv"
"$PY" - "$WORK/group.csv" "$WORK/s1.h5" "$WORK/s2.h5" "$WORK/s3.h5" <<'PYEOF' || fail "group CSV"
import math, sys, h5py, numpy as np, pandas as pd
g = pd.read_csv(sys.argv[1]).set_index("param")
z = np.array([h5py.File(p, "r")["analysis/z"][0] for p in sys.argv[2:]])  # CDT
m, s, n = z.mean(), z.std(ddof=1), len(z)
t = m / math.sqrt(s * s / n + 1 / n)                # qst-domain.md §3.9
assert abs(g.loc["CDT", "t"] - t) < 1e-9, (g.loc["CDT", "t"], t)
assert g.loc["CDT", "df"] == 4
assert 0 < g.loc["CDT", "p"] <= 1
assert g.loc["CDT", "verdict"] in ("n.s.", "loss", "gain")
assert math.isnan(g.loc["PPT", "t"])
PYEOF
expect_exit 2 "$QST" analyze --group "$WORK/s1.h5"
expect_exit 5 "$QST" analyze --group "$WORK/s1.h5" "$WORK/noan.h5"
expect_err "qst analyze"
echo "ok: analyze --group"
