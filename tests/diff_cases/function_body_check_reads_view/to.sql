CREATE TABLE limits (n int);
CREATE VIEW max_limit AS SELECT coalesce(max(n), 100) AS n FROM limits;
CREATE FUNCTION within_limit(x int) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT x <= (SELECT n FROM max_limit) $$;
CREATE TABLE t (id int CONSTRAINT t_id_within CHECK (within_limit(id)));
