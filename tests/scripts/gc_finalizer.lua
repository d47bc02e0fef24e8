-- A finalizer left to run when the state is closed: it must neither hang
-- the engine nor reach the station after the script has ended.
qst.protocol{ name = "gc finalizer", devices = { "thermal", "response" } }
keep = setmetatable({}, { __gc = function()
  qst.section("from a finalizer")
  while true do end
end })
