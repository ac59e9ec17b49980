CREATE FUNCTION zz_inner() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION aa_outer() RETURNS int LANGUAGE sql AS $$ SELECT zz_inner() $$;
