INSERT INTO p VALUES ('a', 1), ('b', 2);
INSERT INTO c VALUES ('a', 1), ('b', 2), (NULL, 3);
