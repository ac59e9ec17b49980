CREATE TABLE t (a int, b int, c int);
COMMENT ON COLUMN t.b IS 'b';
COMMENT ON COLUMN t.c IS 'c';
