INSERT INTO t VALUES (1, 'Ada', 'Lovelace', 'x');
