CREATE TABLE t (id int PRIMARY KEY, b int, c text);
CREATE STATISTICS t_bc ON b, c FROM t;
