-- The string metatable is the script's to spoil, not the station's: the
-- qst functions read strings without metamethods.
qst.protocol{ name = "string metatable" }
local smt = getmetatable("")
smt.__tostring = function() while true do end end
smt.__index = function() error("hijacked") end
qst.section("after")
qst.log("text", 1.5)
local ok = pcall(function() return ("x"):upper() end)
qst.log(ok)
