-- One good CDT test, then a runaway loop: the CDT trials must stay in the file.
qst.protocol{ name = "loop test", version = "1", devices = { "thermal", "response" } }
qst.limits{ test = "CDT", isi = 1, isi_jitter = 0 }
local n = 0
while true do n = n + 1 end
