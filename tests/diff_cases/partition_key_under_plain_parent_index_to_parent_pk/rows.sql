INSERT INTO accounts VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c');
