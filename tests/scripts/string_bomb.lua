-- Doubling a string by concatenation, then one huge string.rep.
qst.protocol{ name = "string bomb" }
local s = "0123456789abcdef"
for _ = 1, 40 do s = s .. s end
local big = string.rep("x", 1 << 40)
