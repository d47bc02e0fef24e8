-- Tries to swallow the budget stop: every loop runs inside pcall, and the
-- outer loop retries for ever. The stop must still end the script.
qst.protocol{ name = "pcall infinite loop" }
local function spin()
  local n = 0
  while true do n = n + 1 end
end
while true do
  pcall(spin)
  xpcall(spin, function() spin() end)
  qst.log("caught the stop, carrying on")
end
