SELECT (SELECT count(*) FROM c JOIN p ON p.id = c.pid) = 1
