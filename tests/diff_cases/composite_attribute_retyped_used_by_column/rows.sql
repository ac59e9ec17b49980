INSERT INTO t VALUES (1, ROW(1, 'x')), (2, NULL), (3, ROW(NULL, 'y'));
