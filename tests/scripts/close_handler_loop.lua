-- A to-be-closed variable whose __close loops: it runs while the error
-- unwinds, and again after the budget stop. The stop must still end it.
qst.protocol{ name = "close handler loop" }
do
  local guard <close> = setmetatable({}, { __close = function() while true do end end })
  error("boom")
end
