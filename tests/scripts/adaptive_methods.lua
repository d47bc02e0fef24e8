-- Issue 6: the adaptive thermal methods end to end on the simulated
-- station (tests/integration/adaptive_methods.sh).
qst.protocol{ name = "adaptive methods", version = "1",
	      devices = { "thermal", "response" } }
local wdt, fa = qst.levels{ test = "WDT", catch = 0.3, isi = 3, isi_jitter = 0 }
print("levels WDT", wdt, fa)
local hpt, fa2 = qst.staircase{ test = "HPT", start = 40, step = 1, reversals = 6,
				last = 4, isi = 3, cutoff = 47, max_trials = 14 }
print("staircase HPT", hpt, fa2)
local pain5 = qst.calibrate{ repeats = 1, ceiling = 47, rest = 0, isi = 2 }
print("calibrate", pain5)
