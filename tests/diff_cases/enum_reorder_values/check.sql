SELECT array_agg(id ORDER BY p) = '{1,3,2}' FROM task
