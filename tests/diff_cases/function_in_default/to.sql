CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' $$;
CREATE TABLE t (id int, code text DEFAULT next_code());
