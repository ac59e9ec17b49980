SELECT array_agg(b::text ORDER BY id) = '{true,false}' FROM t
