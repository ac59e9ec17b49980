SELECT (SELECT count(*) FROM t) = 2 AND (SELECT v FROM floor_now) = 2
