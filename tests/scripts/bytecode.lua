-- Tries to build and run bytecode: string.dump and load are absent.
qst.protocol{ name = "bytecode" }
local function f() return 1 end
local chunk = string.dump(f)
load(chunk, "x", "b")()
