INSERT INTO t (a, c) VALUES (1, 'x'), (2, 'y'), (NULL, 'z');
