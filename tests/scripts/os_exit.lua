-- No os library: a script cannot end the station process.
qst.protocol{ name = "os exit" }
os.exit(1)
