-- No module loading.
qst.protocol{ name = "require" }
local io2 = require("io")
