CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL, v text);
CREATE TABLE k (a int NOT NULL, b int NOT NULL, CONSTRAINT k_a_b UNIQUE (a, b));
