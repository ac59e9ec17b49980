INSERT INTO t VALUES (1, ARRAY[ROW(1, 'x'), ROW(2, 'y'), NULL, ROW(3, NULL)]::pair[], ROW(9, 'z')), (2, '{}', NULL), (3, NULL, NULL);
