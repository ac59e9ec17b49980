SELECT (SELECT count(*) FROM p_1) = 2 AND (SELECT string_agg(id::text || '@' || at::text, ',' ORDER BY id) FROM p) = '1@2024-03-01,7@2024-11-30'
