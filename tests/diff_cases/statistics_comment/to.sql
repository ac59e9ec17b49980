CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text);
CREATE STATISTICS t_ab ON a, b FROM t;
COMMENT ON STATISTICS t_ab IS 'correlated a and b';
