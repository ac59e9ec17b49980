SELECT (SELECT string_agg(shop || id || '#' || no, ',' ORDER BY id) FROM invoices) = 'north1#1,south2#2,north3#3'
   AND (SELECT string_agg(shop || id, ',' ORDER BY id) FROM invoices_north) = 'north1,north3'
   AND (SELECT string_agg(shop || invoice_id, ',' ORDER BY invoice_id) FROM payments) = 'north1,south2,north3'
   AND (SELECT count(*) FROM payments_north) = 2
   AND to_regclass('invoices_south') IS NULL
