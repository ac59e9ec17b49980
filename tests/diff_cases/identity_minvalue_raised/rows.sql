INSERT INTO t (v) VALUES ('a'), ('b');
