CREATE TYPE pair AS (a int, b text);
CREATE TABLE t (id int PRIMARY KEY, ps pair[] DEFAULT '{}', p pair);
COMMENT ON COLUMN t.ps IS 'pairs in order';
