-- Each call costs a few instructions but milliseconds of C on a big
-- string: the library work itself is charged to the budget.
qst.protocol{ name = "C work bomb" }
local s = string.rep("a", 1 << 20)
while true do
  local u = s:upper()
end
