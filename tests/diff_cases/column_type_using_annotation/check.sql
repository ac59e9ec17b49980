SELECT (SELECT created = '1970-01-02 00:00:00+00' AND done FROM events WHERE id = 1) AND (SELECT created IS NULL AND NOT done FROM events WHERE id = 2)
