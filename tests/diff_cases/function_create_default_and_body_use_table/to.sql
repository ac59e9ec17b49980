CREATE TABLE t (id int);
CREATE FUNCTION next_id() RETURNS int LANGUAGE sql AS $$ SELECT coalesce(max(id), 0) + 1 FROM t $$;
ALTER TABLE t ALTER COLUMN id SET DEFAULT next_id();
