CREATE TABLE allowed (id int);
CREATE VIEW allowed_ids AS SELECT id FROM allowed UNION ALL SELECT g FROM generate_series(1, 10) g;
CREATE FUNCTION zz_is_allowed(x int) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT EXISTS (SELECT 1 FROM allowed_ids a WHERE a.id = x) $$;
CREATE FUNCTION aa_check_id(x int) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
    ok boolean;
BEGIN
    ok := zz_is_allowed(x);
    IF NOT ok THEN
        RAISE NOTICE 'id % not allowed', x;
    END IF;
    RETURN ok;
END
$$;
CREATE TABLE t (id int CONSTRAINT t_id_allowed CHECK (aa_check_id(id)));
