SELECT count(*) = 2 AND bool_or(c = 'abc') FROM t
