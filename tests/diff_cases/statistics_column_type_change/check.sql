SELECT count(*) = 50 AND sum(a) = (SELECT sum(g % 7) FROM generate_series(1, 50) g) FROM t
