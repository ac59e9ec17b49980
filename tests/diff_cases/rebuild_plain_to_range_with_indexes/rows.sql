INSERT INTO m VALUES (1, '2023-06-01', 'a'), (2, '2024-06-01', 'b');
