-- Short thermal session for fault injection (tests/integration/faults.sh):
-- two warm detection trials, then heat pain ramps into which a fault is
-- injected mid-ramp.
qst.protocol{ name = "fault injection", version = "1", devices = { "thermal", "response" } }
qst.limits{ test = "WDT", repetitions = 2, isi = 1, isi_jitter = 0 }
qst.limits{ test = "HPT", repetitions = 3, isi = 2, isi_jitter = 0 }
