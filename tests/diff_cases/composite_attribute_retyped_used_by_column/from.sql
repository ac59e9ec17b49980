CREATE TYPE pair AS (a int, b text);
CREATE TABLE t (id int, p pair);
