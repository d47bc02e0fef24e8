-- No file loading.
qst.protocol{ name = "dofile" }
dofile("/etc/passwd")
