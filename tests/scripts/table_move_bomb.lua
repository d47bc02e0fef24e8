-- table.move loops in C over the whole range even when it copies nils.
qst.protocol{ name = "table.move bomb" }
table.move({}, 1, math.maxinteger - 1, 1)
