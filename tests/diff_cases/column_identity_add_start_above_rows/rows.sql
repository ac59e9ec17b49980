INSERT INTO t VALUES (10, 'a'), (20, 'b');
