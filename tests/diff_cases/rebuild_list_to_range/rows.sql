INSERT INTO ev VALUES ('a', '2023-05-01', 'one'), ('b', '2024-05-01', 'two'), ('a', '2024-06-01', NULL);
