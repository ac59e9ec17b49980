SELECT array_agg(m::text ORDER BY id) = '{sad,happy}' AND (SELECT ms FROM p WHERE id = 1)::text = '{sad,happy}' FROM p
