SELECT count(*) = 3 AND bool_and(CASE id WHEN 1 THEN (p).a = 1 AND (p).b = 'x' WHEN 2 THEN p IS NULL ELSE (p).a IS NULL AND (p).b = 'y' END) FROM t
