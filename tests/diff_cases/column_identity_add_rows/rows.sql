INSERT INTO t VALUES (5, 'a'), (7, 'b');
