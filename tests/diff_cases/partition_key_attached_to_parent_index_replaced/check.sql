SELECT count(*) = 2 FROM events
