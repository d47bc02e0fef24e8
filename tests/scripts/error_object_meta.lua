-- An error object whose metamethods loop: reporting it must not run them.
qst.protocol{ name = "error object" }
local mt = {}
mt.__tostring = function() while true do end end
mt.__index = function() while true do end end
mt.__name = string.rep("N", 100000)
error(setmetatable({}, mt))
