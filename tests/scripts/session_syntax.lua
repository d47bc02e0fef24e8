qst.protocol{ name = "syntax test", version = "1", devices = { "thermal", "response" } }
qst.limits{ test = "CDT" 
if then end
