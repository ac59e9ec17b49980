CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text);
CREATE STATISTICS t_ab (ndistinct, dependencies) ON a, b FROM t;
ALTER STATISTICS t_ab SET STATISTICS 400;
