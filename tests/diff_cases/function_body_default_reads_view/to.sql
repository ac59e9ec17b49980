CREATE TABLE settings (k text, v text);
CREATE VIEW current_region AS SELECT coalesce((SELECT v FROM settings WHERE k = 'region'), 'eu') AS region;
CREATE FUNCTION default_region() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (SELECT region FROM current_region);
END
$$;
CREATE TABLE t (id int, region text DEFAULT default_region());
