-- Temporal summation of heat pain (issue 6; qst-domain.md §6.1): a train
-- of 10 identical heat pulses at 0.4 Hz (Staud; >= 0.33 Hz), 0.5 s at the
-- peak (Kell), each rated 0-100 in the pause after it. The indices (R_last
-- - R_first and its variants, §6.1) are computed from the recorded
-- ratings by the analysis. Every pulse's command goes out at its
-- scheduled time from the station's pacer and its lateness is recorded
-- (docs/timing.md).
--
-- The peak temperature belongs to the subject: a calibration (a pain-5
-- temperature, §6.1) will provide it. It is PEAK_C below, the one place
-- it is set: `qst run tsp_heat.lua --set peak_c=47.5 ...` gives it for a
-- run; without that the default 48 °C (one of Staud's train temperatures,
-- §6.1) is used. The station's supervisor bounds it either way (max_c,
-- default 50 °C).

local PEAK_C = qst.option("peak_c", 48.0) -- °C; calibration replaces the default
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
