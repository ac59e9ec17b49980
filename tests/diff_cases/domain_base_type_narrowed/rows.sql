INSERT INTO t VALUES (1, 'abc'), (2, NULL);
