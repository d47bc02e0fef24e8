-- Offset analgesia (issue 6; qst-domain.md §6.4, the QST.Lab paradigm
-- [S21]): a heat stimulus at T for 5 s (T1), T + 1 °C for 5 s (T2), back
-- to T for 20 s (T3), against a control trial at constant T for the same
-- time; the subject rates pain continuously on the eVAS slider (the
-- /rating stream). Offset analgesia is the dip of the offset trial's
-- rating below the control's after the 1 °C decrease, time-matched
-- (OA_abs, §6.4). A familiarisation of 10 s at T − 2 °C comes first.
--
-- T belongs to the subject (Pain5 or a fixed temperature, §6.4): T_C
-- below, `--set t_c=...` for a run (a calibration's result), 46 °C
-- otherwise.
--
-- Timing. Every segment that starts a phase is given by its duration, so
-- the phases start at exact times from the waveform's start whatever the
-- plate's starting temperature: the rise from baseline takes RISE_S, each
-- 1 °C step STEP_S (5 °C/s, within Yelle's 0.5–5 °C/s falls, §6.4).
--
-- Marks (the contract the analysis reads, docs/paradigms.md):
--   qst.mark("oa:t_c", T, STEP_S)                  once;
--   qst.mark("oa:offset", s_to_t2, s_to_t3)         right before the offset
--                                                   trial's waveform;
--   qst.mark("oa:control", s_to_t2, s_to_t3)        right before the control
--                                                   trial's waveform;
-- s_to_t2 = seconds from the mark to the start of the up-step (end of
-- T1), s_to_t3 = to the start of the down-step (end of T2), the same
-- numbers for the control so that both traces are compared at the same
-- mark-relative times.
--
-- Options: t_c (46 °C), order (0: offset trial first, 1: control first),
-- rest_s between trials (60 s: offset analgesia and wind-up have faded).

local T_C = qst.option("t_c", 46.0)
local CONTROL_FIRST = qst.option("order", 0) ~= 0
local REST_S = qst.option("rest_s", 60)

local BASELINE_C = 32.0   -- the station's neutral, where each trial starts
local RISE_RATE_C_S = 5.0 -- baseline to T
local STEP_S = 0.2        -- each 1 °C step: 5 °C/s
local T1_S, T2_S, T3_S = 5, 5, 20
local FAMILIAR_S = 10

-- Rounded up to the TCS II's 10 ms so the durations played are the ones
-- the marks announce (docs/protocol-api.md, qst.waveform).
local function ticks(s) return math.ceil(s * 100 - 1e-9) / 100 end
local RISE_S = ticks((T_C - BASELINE_C) / RISE_RATE_C_S)

qst.protocol{
  name = "Offset analgesia",
  version = "1.0.0",
  description = "Offset analgesia: T, T+1, T vs constant T, continuous eVAS",
  devices = { "thermal", "response", "rating" },
}

local S_TO_T2 = RISE_S + T1_S
local S_TO_T3 = S_TO_T2 + STEP_S + T2_S

local function offset_trial()
  qst.mark("oa:offset", S_TO_T2, S_TO_T3)
  qst.waveform{ { to = T_C, duration = RISE_S }, { to = T_C, duration = T1_S },
                { to = T_C + 1, duration = STEP_S },
                { to = T_C + 1, duration = T2_S },
                { to = T_C, duration = STEP_S }, { to = T_C, duration = T3_S },
                return_rate = RISE_RATE_C_S }
end

-- As long at T as the offset trial is from its rise to its end.
local function control_trial()
  qst.mark("oa:control", S_TO_T2, S_TO_T3)
  qst.waveform{ { to = T_C, duration = RISE_S },
                { to = T_C, duration = T1_S + T2_S + T3_S + 2 * STEP_S },
                return_rate = RISE_RATE_C_S }
end

qst.mark("oa:t_c", T_C, STEP_S)
qst.section("Offset analgesia")
qst.instruct("Keep the slider at how painful the heat is right now, from " ..
             "no pain (left) to worst pain imaginable (right), all the time.")

qst.section("Familiarisation")
qst.waveform{ { to = T_C - 2, duration = ticks((T_C - 2 - BASELINE_C) /
                                               RISE_RATE_C_S) },
              { to = T_C - 2, duration = FAMILIAR_S },
              return_rate = RISE_RATE_C_S }
qst.wait(REST_S)

qst.section("Trials")
if CONTROL_FIRST then
  control_trial(); qst.wait(REST_S); offset_trial()
else
  offset_trial(); qst.wait(REST_S); control_trial()
end
qst.wait(5)
