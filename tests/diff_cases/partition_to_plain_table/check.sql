SELECT (SELECT count(*) FROM ONLY p) = 2 AND (SELECT sum(id) FROM v) = 3
