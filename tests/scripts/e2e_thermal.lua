-- Thermal thresholds for the end-to-end test over emulated serial ports
-- (tests/umock/test_station_e2e.c): short, so it runs in real time.
qst.protocol{ name = "e2e thermal", version = "1.0.0",
              devices = { "thermal", "response" } }
qst.limits{ test = "WDT", baseline = 32, rate = 1.0, return_rate = 2.0,
            cutoff = 50.0, repetitions = 3 }
qst.limits{ test = "HPT", baseline = 32, rate = 1.0, return_rate = 5.0,
            cutoff = 50.0, repetitions = 3 }
