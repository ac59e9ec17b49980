CREATE TABLE t (a int, c int);
COMMENT ON COLUMN t.c IS 'c';
