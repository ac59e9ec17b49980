CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text);
CREATE STATISTICS t_ab (ndistinct) ON a, b FROM t;
