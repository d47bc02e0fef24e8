-- No debug library: a script cannot remove the instruction hook.
qst.protocol{ name = "debug access" }
debug.sethook()
while true do end
