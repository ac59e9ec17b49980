CREATE TYPE pair AS (a int, c date, b text);
CREATE TABLE t (id int, p pair);
