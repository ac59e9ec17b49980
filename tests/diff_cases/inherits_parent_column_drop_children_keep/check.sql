SELECT (SELECT string_agg(source, ',' ORDER BY id) FROM orders) = 'web,shop' AND (SELECT source FROM refunds) = 'web'
