-- A huge error message with terminal escapes at its start: cut to the
-- message buffer, and nothing in it drives the operator's terminal.
qst.protocol{ name = "long error" }
error("\27[2J\27]0;title\7" .. string.rep("very long message ", 50000))
