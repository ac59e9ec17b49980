CREATE FUNCTION lower2(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower($1) $$;
CREATE TABLE t (n text);
CREATE INDEX t_lower ON t (lower2(n));
