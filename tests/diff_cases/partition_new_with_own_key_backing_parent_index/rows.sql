INSERT INTO events VALUES (1, 1, 'a', 'x'), (1, 2, 'b', DEFAULT);
