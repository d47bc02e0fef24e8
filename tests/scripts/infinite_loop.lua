-- Runaway loop: stopped by the instruction budget, at the loop's line.
qst.protocol{ name = "infinite loop" }
local n = 0
while true do n = n + 1 end
