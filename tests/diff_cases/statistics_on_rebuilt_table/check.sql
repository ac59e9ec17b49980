SELECT (SELECT string_agg(id || body || kind, ',' ORDER BY id) FROM m) = '1a1,2b2'
