-- A deeply nested table where the API expects a list of names.
local t = {}
for i = 1, 20000 do t = { t } end
qst.protocol{ name = "nested", devices = t }
