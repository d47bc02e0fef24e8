-- Conditioned pain modulation, heat test stimulus and cold-water
-- conditioning (issue 6; qst-domain.md §6.3, the heat–cold paradigm of
-- PMC4974731 [S19]): the test stimulus (TS) is a heat pulse set to the
-- subject's NRS 60 (§6.3: "NRS 60 ± 5, 43–49 °C"), rated 0–100 BEFORE,
-- DURING and AFTER a remote conditioning stimulus (CS), cold water at
-- 10 °C on the contralateral hand for 60 s, which the operator applies
-- (qst.condition). Early CPM = TS_during − TS_before, late CPM =
-- TS_after − TS_before (negative = inhibition, §6.3 sign convention).
--
-- Design. Parallel by default: the during-TS is given while the hand is
-- in the water. `--set sequential=1` gives the sequential design instead
-- (Reezigt 2021 found no relevant difference, §6.3): no TS during the
-- CS, the after-TS is the conditioned one.
--
-- Marks (the contract the analysis reads, docs/paradigms.md):
--   qst.mark("cpm:ts_c", TS °C)  once, after the calibration;
--   qst.mark("cpm:before")       before the before-TS block;
--   qst.mark("cpm:during")       before the during-TS block (parallel only);
--   qst.mark("cpm:after")        before the after-TS block.
-- A block's ratings are the `rating` events after its mark, up to the
-- next mark. A failed calibration is marked "cpm:calibration_failed".
--
-- Options (`qst run --set NAME=NUMBER`; tests shorten the session):
--   ts_c        fallback TS °C when the calibration finds none (46)
--   calibrate   1: calibrate the TS to NRS 60 (S21 rating-target), 0: use ts_c
--   repeats     calibrations averaged (2, §7.3) and rest_s between them
--   ts_n        TS pulses per block, averaged (1)
--   ts_hold_s   TS time at its peak (5 s)
--   cs_s        CS duration (60 s, [S19]); cs_lead_s: CS on before the
--               during-TS starts (20 s: the cold has built up)
--   after_s     from CS off to the after block (10 s, QST.Lab [S21])
--   sequential  0 parallel, 1 sequential

local TS_FALLBACK_C = qst.option("ts_c", 46.0)
local CALIBRATE = qst.option("calibrate", 1) ~= 0
local REPEATS = qst.option("repeats", 2)
local REST_S = qst.option("rest_s", 90)
local TS_N = qst.option("ts_n", 1)
local TS_HOLD_S = qst.option("ts_hold_s", 5)
local CS_S = qst.option("cs_s", 60)
local CS_LEAD_S = qst.option("cs_lead_s", 20)
local AFTER_S = qst.option("after_s", 10)
local SEQUENTIAL = qst.option("sequential", 0) ~= 0

local TARGET_NRS = 60          -- §6.3, heat–cold paradigm
local BASELINE_C = 35.0        -- between TS pulses: warm, never painful
local RATE_C_S = 10.0          -- the station's rate ceiling
local TS_GAP_S = 30            -- between TS pulses: wind-up has long faded
local CS_WHAT = "cold water 10 °C, contralateral hand"

qst.protocol{
  name = "CPM heat-cold",
  version = "1.0.0",
  description = "Conditioned pain modulation: heat TS at NRS 60 before, " ..
                "during and after a cold-water CS",
  devices = { "thermal", "response" },
}

-- The TS temperature: S21's rating-target staircase aimed at NRS 60,
-- within the 43–49 °C range of [S19]; ±5 is the paradigm's tolerance.
local function ts_temperature()
  if not CALIBRATE then return TS_FALLBACK_C end
  qst.section("TS calibration")
  qst.instruct("You will feel short heat pulses. After each one, say how " ..
               "painful it was from 0 (no pain) to 100 (worst pain imaginable).")
  local t = qst.calibrate{ target = TARGET_NRS, scale = "nrs100",
                           tolerance = 5, start = 45, step = 1, floor = 43,
                           ceiling = 49, repeats = REPEATS, rest = REST_S }
  if t == nil then
    qst.mark("cpm:calibration_failed", TS_FALLBACK_C)
    return TS_FALLBACK_C
  end
  return t
end

-- One block: ts_n single rated pulses, TS_GAP_S apart (a gap long enough
-- that no wind-up from one pulse reaches the next, docs/simulation.md).
local function ts_block(label, ts)
  qst.mark(label)
  local ramp = math.abs(ts - BASELINE_C) / RATE_C_S
  for k = 1, TS_N do
    if k > 1 then qst.wait(TS_GAP_S) end
    qst.pulse_train{ peak = ts, baseline = BASELINE_C, n = 1,
                     frequency = 1 / (2 * ramp + TS_HOLD_S + 1),
                     hold = TS_HOLD_S, rise = RATE_C_S, fall = RATE_C_S,
                     rate_after = "each" }
  end
end

local ts = ts_temperature()
qst.mark("cpm:ts_c", ts)
qst.log(string.format("CPM test stimulus %.2f degC", ts))

qst.section("Conditioned pain modulation")
qst.instruct("Heat pulses will come on your arm; rate each one from 0 to 100.")
qst.wait(TS_GAP_S)
ts_block("cpm:before", ts)
qst.wait(TS_GAP_S)

qst.instruct("Put your other hand into the cold water and keep it there " ..
             "until told.")
qst.condition{ on = true, intensity = 1, what = CS_WHAT }
if SEQUENTIAL then
  qst.wait(CS_S)
else
  qst.wait(CS_LEAD_S)
  local t0 = qst.now()
  ts_block("cpm:during", ts)
  qst.wait(math.max(0, CS_S - CS_LEAD_S - (qst.now() - t0)))
end
qst.condition{ on = false, what = CS_WHAT }
qst.instruct("Take your hand out of the water.")

qst.wait(AFTER_S)
ts_block("cpm:after", ts)
qst.wait(1)
