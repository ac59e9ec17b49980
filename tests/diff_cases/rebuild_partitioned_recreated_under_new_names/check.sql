SELECT (SELECT string_agg(id || region || total, ',' ORDER BY id) FROM orders2) = '1eu10,2us20,3eu30'
   AND (SELECT sum(qty) FROM lines2) = 9 AND (SELECT count(*) FROM orders_eu) = 2
