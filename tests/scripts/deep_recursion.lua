-- Runaway (non-tail) recursion ends in a clean error.
qst.protocol{ name = "deep recursion" }
local function down(n) return 1 + down(n + 1) end
down(1)
