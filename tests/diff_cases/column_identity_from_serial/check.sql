SELECT count(*) = 2 FROM x
