-- A __len that lies makes table.insert shift 2^62 elements in C.
qst.protocol{ name = "table.insert bomb" }
local t = setmetatable({}, { __len = function() return math.maxinteger - 1 end })
table.insert(t, 1, "x")
