SELECT (SELECT string_agg(id || s::text || owner, ',' ORDER BY id) FROM ticket) = '1opena,2closedb'
