INSERT INTO item (at, label) VALUES ('2024-01-01', 'a'), ('2024-01-02', 'b'), ('2024-01-03', 'c');
DELETE FROM item WHERE label = 'c';
