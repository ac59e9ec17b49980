INSERT INTO packages (name) VALUES ('a'), ('b'), ('c');
