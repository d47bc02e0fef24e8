-- A short heat series for the stop tests: ramps that take seconds.
qst.protocol{ name = "stop test", version = "1", devices = { "thermal", "response" } }
qst.section("Heat pain")
qst.limits{ test = "HPT", repetitions = 5, isi = 2, isi_jitter = 0 }
