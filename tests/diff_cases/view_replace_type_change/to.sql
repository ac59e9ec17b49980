CREATE TABLE t (a int, b int);
CREATE VIEW v AS SELECT a::text AS a FROM t;
