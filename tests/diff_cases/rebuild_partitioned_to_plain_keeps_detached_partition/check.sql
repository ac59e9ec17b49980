SELECT (SELECT sum(v) FROM s) = 3 AND (SELECT sum(v) FROM s_x) = 1
