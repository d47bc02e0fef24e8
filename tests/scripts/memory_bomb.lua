-- Unbounded table growth: stopped at the memory cap.
qst.protocol{ name = "memory bomb" }
local t = {}
local i = 0
while true do
  i = i + 1
  t[i] = { i, i, i, i }
end
