-- A single string.rep far beyond the memory cap.
qst.protocol{ name = "string.rep bomb" }
local big = ("x"):rep(1 << 30)
qst.log(#big)
