-- A missing 'then': the engine must refuse to load this, naming the line.
qst.protocol{ name = "syntax error" }
if 1 > 0
  qst.log("never")
end
