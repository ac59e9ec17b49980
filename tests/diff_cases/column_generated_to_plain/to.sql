CREATE TABLE t (a int, b int);
COMMENT ON COLUMN t.b IS 'twice a, then kept';
CREATE INDEX t_b ON t (b);
CREATE VIEW v AS SELECT a, b FROM t;
