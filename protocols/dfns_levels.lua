-- Thermal detection thresholds by the method of levels (issue 6;
-- qst-domain.md §7.2): CDT and WDT from fixed-temperature stimuli the
-- subject reports as felt or not, so the reaction time is not in the
-- value (unlike the DFNS method of limits, §2.1, §7.1). A variant of the
-- thermal detection part of protocols/dfns_thermal.lua for subjects or
-- studies where reaction time would bias the threshold. The rows are
-- flagged `adaptive` and kept out of the DFNS parameters and z-scores.
--
-- Each run: from the 32 °C baseline up (WDT) or down (CDT) by 4 °C until
-- the first YES, then the step halves at each change of direction until
-- it falls below 0.25 °C (§7.2's pseudo-trace values); the threshold is
-- the mean of the last YES and the last NO level. Stimuli: 1 °C/s ramps,
-- 1 s at the level (a trapezoid, §7.2 [S17]), 2 s to answer; 20% null
-- stimuli to count false alarms (§7.5).
--
-- Marks (docs/paradigms.md): qst.mark("levels:CDT", threshold °C or NaN,
-- false alarms) and qst.mark("levels:WDT", ...) after each run.
--
-- Options: step (4 °C), min_step (0.25 °C), catch (0.2).

local STEP_C = qst.option("step", 4.0)
local MIN_STEP_C = qst.option("min_step", 0.25)
local CATCH = qst.option("catch", 0.2)
local BASELINE_C = 32.0

qst.protocol{
  name = "DFNS detection thresholds, method of levels",
  version = "1.0.0",
  description = "CDT and WDT by the method of levels (RT-exclusive)",
  devices = { "thermal", "response" },
}

local function run(test, what)
  qst.instruct("After each change of temperature, press the button within " ..
               "2 seconds if you felt it " .. what .. ". Do not press if " ..
               "you felt nothing.")
  local threshold, false_alarms = qst.levels{
    test = test, baseline = BASELINE_C, rate = 1.0, return_rate = 1.0,
    hold = 1, window = 2, step = STEP_C, min_step = MIN_STEP_C,
    catch = CATCH }
  qst.mark("levels:" .. test, threshold or 0 / 0, false_alarms)
  qst.log(string.format("%s %s degC, %d false alarms", test,
                        threshold and string.format("%.3f", threshold) or "none",
                        false_alarms))
end

qst.section("Thermal detection thresholds, method of levels")
run("CDT", "get colder")
run("WDT", "get warmer")
