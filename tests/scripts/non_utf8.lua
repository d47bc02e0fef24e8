-- Names are stored as UTF-8 strings in the session file: other bytes
-- would make them unreadable there.
qst.protocol{ name = "bad \xff\xfe name" }
