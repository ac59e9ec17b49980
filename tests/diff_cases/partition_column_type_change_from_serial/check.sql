SELECT string_agg(ref, ',' ORDER BY ref) = '1,2' FROM tickets
