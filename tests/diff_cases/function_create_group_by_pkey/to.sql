CREATE TABLE t (id int PRIMARY KEY, v int);
CREATE FUNCTION f() RETURNS TABLE(id int, v int, n bigint) LANGUAGE sql AS $$ SELECT t.id, t.v, count(*) FROM t GROUP BY t.id $$;
