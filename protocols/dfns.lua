-- The full DFNS QST battery at one test area (qst-domain.md §1.2): the
-- thermal block (CDT, WDT, TSL with PHS, CPT, HPT), then MDT, MPT, MPS and
-- DMA, WUR, VDT and PPT, in that order. Parameters are the DFNS values
-- (§1.4, §2.1-§2.9); they are the defaults of each call and are written
-- out where the procedure names them.

qst.protocol{
  name = "DFNS QST battery",
  version = "1.0.0",
  description = "All 13 DFNS parameters at one test area",
  devices = { "thermal", "response", "pressure" },
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
qst.instruct("Press the button as soon as the cold becomes painful.")
qst.limits{ test = "CPT", baseline = BASELINE, rate = 1.0, return_rate = 5.0,
            cutoff = 0.0, repetitions = 3 }
qst.instruct("Press the button as soon as the heat becomes painful.")
qst.limits{ test = "HPT", baseline = BASELINE, rate = 1.0, return_rate = 5.0,
            cutoff = 50.0, repetitions = 3 }

qst.section("Mechanical detection threshold (von Frey, 0.25-512 mN)")
qst.instruct("Close your eyes and say 'yes' whenever you feel a touch.")
qst.mdt{ start = 16, series = 5, out_of_range = "next" }

qst.section("Mechanical pain threshold (pinprick, 8-512 mN)")
qst.instruct("Say whether each stimulus feels sharp or blunt.")
qst.mpt{ start = 16, series = 5, out_of_range = "next" }

qst.section("Mechanical pain sensitivity and dynamic mechanical allodynia")
qst.instruct("Rate every stimulus from 0 (no pain) to 100 (most intense pain imaginable).")
qst.mps_dma{ runs = 5 }

qst.section("Wind-up ratio (pinprick 256 mN, single vs train of 10 at 1 Hz)")
qst.instruct("Rate the single stimulus, then the train as a whole, from 0 to 100.")
qst.wur{ repetitions = 5, force = 256, train = 10, rate = 1 }

qst.section("Vibration detection threshold (Rydel-Seiffer fork, 64 Hz)")
qst.instruct("Say 'now' when the vibration disappears.")
qst.vdt{ readings = 3, sham = true }

qst.section("Pressure pain threshold (algometer, 1 cm2 probe)")
qst.instruct("Press the button as soon as the pressure becomes painful.")
qst.ppt{ trials = 3, rate = 50 }
