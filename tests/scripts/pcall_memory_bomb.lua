-- Tries to catch the memory stop and carry on allocating and calling the
-- station: the stop is final, nothing after it may reach the host.
qst.protocol{ name = "pcall memory bomb" }
local keep = {}
local function grow()
  local s = "x"
  while true do s = s .. s; keep[#keep + 1] = s end
end
for _ = 1, 1000 do
  local ok = pcall(grow)
  keep = {}
  collectgarbage()
  qst.log("survived the memory stop")
  qst.section("after the stop")
end
