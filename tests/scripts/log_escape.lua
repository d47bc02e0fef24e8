-- Log lines are free text: they arrive printable, control bytes and
-- broken UTF-8 replaced.
qst.protocol{ name = "log escape" }
qst.log("\27]0;title\7line\rover \xc3\x28 end\tok")
