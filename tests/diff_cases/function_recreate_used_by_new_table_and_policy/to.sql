CREATE FUNCTION floor_value() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT 2::bigint $$;
CREATE TABLE t (n int);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY t_floor ON t USING (n >= floor_value());
CREATE TABLE u (n bigint DEFAULT floor_value() CONSTRAINT u_floor CHECK (n >= floor_value()));
CREATE VIEW floor_now AS SELECT floor_value() AS v;
CREATE VIEW u_big AS SELECT n FROM u WHERE n > 10;
