-- Temporal summation of heat pain (issue 6; qst-domain.md §6.1): a train
-- of 10 identical heat pulses at 0.4 Hz (Staud; >= 0.33 Hz), 0.5 s at the
-- peak (Kell), each rated 0-100 in the pause after it. The indices (R_last
-- - R_first and its variants, §6.1) are computed from the recorded
-- ratings by the analysis. Every pulse's command goes out at its
-- scheduled time from the station's pacer and its lateness is recorded
-- (docs/timing.md).
--
-- The peak temperature: a fixed one (§6.1 lists Staud's 44/46/48 °C
-- trains), 48 °C unless `--set peak_c=47.5` says otherwise; or, with
-- `--set calibrate=1`, the subject's own "Pain5" temperature found first
-- by the rating-target search (§7.3: rated 50 of 100, i.e. 5 of 10),
-- falling back to peak_c if the search finds none. The station's
-- supervisor bounds it either way (max_c, default 50 °C).

local PEAK_C = qst.option("peak_c", 48.0) -- °C, fixed-temperature design
local CALIBRATE = qst.option("calibrate", 0) ~= 0
local PAIN5_NRS = 50
local BASELINE_C = 40.0    -- between pulses: the TCS II's highest neutral
local PULSES = 10
local FREQUENCY_HZ = 0.4   -- one pulse every 2.5 s
local RATE_C_S = 10.0      -- rise and fall, the station's rate ceiling

qst.protocol{
  name = "TSP heat",
  version = "1.0.0",
  description = "Temporal summation of heat pain: 10 rated pulses at 0.4 Hz",
  devices = { "thermal", "response" },
}

-- The individual peak: the Pain5 search (§7.3), or the fixed one.
local function peak_temperature()
  if not CALIBRATE then return PEAK_C end
  qst.section("Pain5 calibration")
  qst.instruct("You will feel short heat pulses. After each one, say how " ..
               "painful it was from 0 (no pain) to 100 (worst pain imaginable).")
  local t = qst.calibrate{ target = PAIN5_NRS, scale = "nrs100",
                           tolerance = 5, start = 45, step = 1, floor = 42,
                           ceiling = 49, repeats = 2, rest = 90 }
  qst.mark("tsp:peak_c", t or PEAK_C, t and 1 or 0)
  return t or PEAK_C
end
PEAK_C = peak_temperature()

qst.section("Temporal summation of heat pain")
qst.instruct("You will feel " .. PULSES .. " short heat pulses, one every " ..
             (1 / FREQUENCY_HZ) .. " seconds. After each one, say how painful " ..
             "it was from 0 (no pain) to 100 (worst pain imaginable).")
qst.pulse_train{
  peak = PEAK_C, baseline = BASELINE_C, n = PULSES, frequency = FREQUENCY_HZ,
  hold = 0.5, rise = RATE_C_S, fall = RATE_C_S, rate_after = "each",
}
-- Back to the usual skin-neutral baseline before the subject leaves.
qst.wait(1)
