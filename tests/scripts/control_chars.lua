-- An escape sequence in a name would redraw the operator's screen.
qst.protocol{ name = "\27[31mred\27[0m" }
