CREATE TYPE pair AS (a bigint, b text);
CREATE TABLE t (id int, p pair);
