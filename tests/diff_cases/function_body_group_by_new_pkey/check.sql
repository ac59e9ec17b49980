SELECT count(*) = 2 FROM a
