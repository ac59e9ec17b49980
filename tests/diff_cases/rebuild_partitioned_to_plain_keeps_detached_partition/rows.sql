INSERT INTO s VALUES ('x', 1), ('y', 2);
