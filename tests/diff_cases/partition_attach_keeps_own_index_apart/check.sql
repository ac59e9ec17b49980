SELECT count(*) = 2 FROM logs
