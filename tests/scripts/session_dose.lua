-- 25 heat pain ramps in a row: each may run to 50 °C, 6 s above 45 °C in
-- the worst case, so 20 of them fill the 120 s per 10 min dose budget
-- (qst-domain.md §8.2 interlock 2) and the supervisor must refuse the rest.
qst.protocol{ name = "dose test", version = "1", devices = { "thermal", "response" } }
qst.section("Heat pain, many repetitions")
qst.limits{ test = "HPT", repetitions = 20, isi = 1, isi_jitter = 0 }
qst.limits{ test = "HPT", repetitions = 5, isi = 1, isi_jitter = 0 }
