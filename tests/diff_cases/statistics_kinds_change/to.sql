CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text);
CREATE STATISTICS t_ab (ndistinct, mcv) ON a, b, c FROM t;
