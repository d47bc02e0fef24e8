-- Pressure pain thresholds only, for algometer fault injection
-- (tests/integration/faults.sh).
qst.protocol{ name = "algometer faults", version = "1", devices = { "response", "pressure" } }
qst.ppt{ trials = 3, rate = 50 }
