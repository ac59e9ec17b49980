SELECT string_agg(s || '/' || m, ',' ORDER BY id) = '5/50,100/1' FROM t
