INSERT INTO shops VALUES (1), (2);
INSERT INTO orders VALUES (1, '2023-03-01', 1, 'a'), (2, '2023-04-01', 2, 'b'), (3, '2024-03-01', 1, 'c');
