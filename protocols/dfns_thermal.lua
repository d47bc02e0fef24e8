-- DFNS thermal testing (qst-domain.md §1.2, §2.1-§2.3): CDT, WDT, TSL with
-- PHS, CPT, HPT at one test area. Baseline 32 °C, ramps 1 °C/s, cut-offs
-- 0 °C and 50 °C, three repetitions; return 1 °C/s after detection and
-- 5 °C/s after pain thresholds (§1.4). Defaults of qst.limits{} and
-- qst.tsl{} are these DFNS values; they are written out here so the
-- protocol reads as the procedure it is.

qst.protocol{
  name = "DFNS thermal QST",
  version = "1.0.0",
  description = "CDT, WDT, TSL+PHS, CPT, HPT per the DFNS procedure",
  devices = { "thermal", "response" },
}

local BASELINE = 32.0

qst.section("Thermal detection thresholds")
qst.instruct("Press the button as soon as you feel the temperature change to cold.")
qst.limits{ test = "CDT", baseline = BASELINE, rate = 1.0, return_rate = 1.0,
            cutoff = 0.0, repetitions = 3 }

qst.instruct("Press the button as soon as you feel the temperature change to warm.")
qst.limits{ test = "WDT", baseline = BASELINE, rate = 1.0, return_rate = 1.0,
            cutoff = 50.0, repetitions = 3 }

qst.section("Thermal sensory limen and paradoxical heat sensations")
qst.instruct("Press as soon as you feel any change, and say whether it is " ..
             "cold, warm, hot or burning (keys 1, 2, 3, 4).")
qst.tsl{ baseline = BASELINE, rate = 1.0, lower_cutoff = 0.0,
         upper_cutoff = 50.0, pairs = 3 }

qst.section("Thermal pain thresholds")
qst.instruct("Press the button as soon as the cold becomes painful, " ..
             "in addition to cold.")
qst.limits{ test = "CPT", baseline = BASELINE, rate = 1.0, return_rate = 5.0,
            cutoff = 0.0, repetitions = 3 }

qst.instruct("Press the button as soon as the heat becomes painful, " ..
             "in addition to warm.")
qst.limits{ test = "HPT", baseline = BASELINE, rate = 1.0, return_rate = 5.0,
            cutoff = 50.0, repetitions = 3 }
