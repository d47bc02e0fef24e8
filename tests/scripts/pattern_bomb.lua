-- A backtracking pattern on a long subject would run for hours in C,
-- where the instruction hook cannot see it: charged up front instead.
qst.protocol{ name = "pattern bomb" }
local s = string.rep("a", 100000)
local found = s:find(".-.-.-.-b")
