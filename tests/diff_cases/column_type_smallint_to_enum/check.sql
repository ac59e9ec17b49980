SELECT array_agg(l::text ORDER BY id) = '{2,1}' FROM t
