CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text);
CREATE STATISTICS t_ab (dependencies) ON a, b FROM t;
