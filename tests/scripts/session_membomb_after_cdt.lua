-- One good CDT test, then unbounded allocation: stopped at the memory cap.
qst.protocol{ name = "memory test", version = "1", devices = { "thermal", "response" } }
qst.limits{ test = "CDT", isi = 1, isi_jitter = 0 }
local t = {}
local s = "x"
while true do s = s .. s; t[#t + 1] = s end
