INSERT INTO x (v) VALUES ('a'), ('b'), ('c'), ('d'), ('e');
DELETE FROM x WHERE id > 3;
