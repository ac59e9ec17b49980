INSERT INTO events VALUES (1, '2024-03-01', 'a'), (2, '2025-03-01', 'b');
