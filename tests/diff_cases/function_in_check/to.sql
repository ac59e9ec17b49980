CREATE FUNCTION is_even(i int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT i % 2 = 0 $$;
CREATE TABLE t (n int CHECK (is_even(n)));
