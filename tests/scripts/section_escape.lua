-- Section titles reach the terminal and the file: no control characters.
qst.protocol{ name = "section escape" }
qst.section("\27[2J\27[Hwarm detection")
