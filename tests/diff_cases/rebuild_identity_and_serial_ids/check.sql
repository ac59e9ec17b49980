WITH ins AS (INSERT INTO item (at, label) VALUES ('2024-02-01', 'd') RETURNING id, n, doubled)
SELECT (SELECT id = 4 AND n = 4 AND doubled = 8 FROM ins)
   AND (SELECT string_agg(id || label || n || doubled, ',' ORDER BY id) FROM item) = '1a12,2b24'
