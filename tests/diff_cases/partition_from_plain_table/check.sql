SELECT (SELECT count(*) FROM p_1) = 2 AND (SELECT sum(id) FROM v) = 3
