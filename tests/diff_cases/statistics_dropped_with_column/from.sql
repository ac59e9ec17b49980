CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text);
CREATE STATISTICS t_ab ON a, b FROM t;
CREATE STATISTICS t_bc ON b, c FROM t;
