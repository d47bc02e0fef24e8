-- Many short warm-detection trials, for crash tests in real time.
qst.protocol{ name = "quick WDT", version = "1", devices = { "thermal", "response" } }
qst.limits{ test = "WDT", rate = 4.0, return_rate = 8.0, cutoff = 45.0,
            repetitions = 20, isi = 0.2, isi_jitter = 0 }
