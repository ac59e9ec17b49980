CREATE TYPE pair AS (a bigint, c int);
CREATE TABLE t (id int, p pair);
CREATE VIEW v AS SELECT id, (p).a FROM t;
