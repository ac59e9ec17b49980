SELECT (SELECT string_agg(note, ',' ORDER BY id) FROM orders_2023) = 'a,b'
   AND (SELECT string_agg(note, ',' ORDER BY id) FROM orders) = 'c'
