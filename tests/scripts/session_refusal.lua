-- A protocol asking for a 55 °C heat cut-off, beyond the station's 50 °C
-- hard maximum (qst-domain.md §8.2): the supervisor must refuse it.
qst.protocol{ name = "refusal test", version = "1", devices = { "thermal", "response" } }
qst.limits{ test = "WDT", repetitions = 1, isi = 1, isi_jitter = 0 }
qst.limits{ test = "HPT", cutoff = 55.0, repetitions = 1 }
