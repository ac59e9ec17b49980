CREATE FUNCTION is_ab(r varchar) RETURNS boolean LANGUAGE sql IMMUTABLE RETURN r IN ('a', 'b');
CREATE FUNCTION not_xy(r varchar) RETURNS boolean LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT r NOT IN ('x', 'y');
END;
CREATE FUNCTION plain_body(r varchar) RETURNS boolean LANGUAGE plpgsql IMMUTABLE
AS $$ BEGIN RETURN r IN ('a', 'b'); END $$;
