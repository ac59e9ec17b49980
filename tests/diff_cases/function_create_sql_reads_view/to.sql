CREATE TABLE t (id int);
CREATE VIEW zz_v AS SELECT id FROM t;
CREATE FUNCTION aa_f() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM zz_v $$;
