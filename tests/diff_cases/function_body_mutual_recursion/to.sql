CREATE FUNCTION is_even(n int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF n = 0 THEN RETURN true; END IF;
    RETURN is_odd(n - 1);
END
$$;
CREATE FUNCTION is_odd(n int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF n = 0 THEN RETURN false; END IF;
    RETURN is_even(n - 1);
END
$$;
CREATE TABLE t (id int CONSTRAINT t_id_parity CHECK (is_even(id) OR is_odd(id)));
