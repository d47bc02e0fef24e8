-- No coroutines: nothing a protocol needs, one less way around the hook.
qst.protocol{ name = "coroutine" }
local co = coroutine.create(function() while true do end end)
