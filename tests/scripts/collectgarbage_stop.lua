-- Stopping the collector is refused.
qst.protocol{ name = "collectgarbage stop" }
collectgarbage("stop")
local t = {}
while true do t[#t + 1] = {} end
