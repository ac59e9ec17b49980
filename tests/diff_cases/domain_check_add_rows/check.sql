SELECT string_agg(coalesce(n::text, '-'), ',' ORDER BY id) = '5,-,7' FROM t
