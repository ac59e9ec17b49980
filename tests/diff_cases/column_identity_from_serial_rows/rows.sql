INSERT INTO x (v) VALUES ('a'), ('b'), ('c');
