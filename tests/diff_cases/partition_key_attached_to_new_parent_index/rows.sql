INSERT INTO app.readings VALUES (1, '2024-01-01', 1.5), (2, '2024-01-01', 2.5);
