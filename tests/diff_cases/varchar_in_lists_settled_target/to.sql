CREATE DOMAIN level AS varchar(8) CHECK (VALUE IN ('low', 'high'));
CREATE TABLE t (
    id int PRIMARY KEY,
    role varchar(10) CHECK (role IN ('a', 'b')),
    kind varchar NOT NULL DEFAULT 'x',
    lvl level,
    n int,
    is_ab boolean GENERATED ALWAYS AS (role IN ('a', 'b')) STORED,
    flag boolean DEFAULT ('a'::varchar NOT IN ('b', 'c')),
    CONSTRAINT kind_known CHECK (kind NOT IN ('bad', 'worse', kind || '!')),
    EXCLUDE USING btree (n WITH =) WHERE (role IN ('a', 'b'))
);
CREATE INDEX t_n_ab ON t (n) WHERE role IN ('a', 'b');
CREATE VIEW ab AS SELECT id, role FROM t WHERE role IN ('a', 'b') AND kind NOT IN ('y', 'z');
CREATE MATERIALIZED VIEW ab_count AS SELECT count(*) AS n FROM t WHERE role IN ('a', 'b');
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY ab_only ON t USING (role IN ('a', 'b')) WITH CHECK (kind IN ('x', 'y'));
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW WHEN (NEW.role IN ('a', 'b')) EXECUTE FUNCTION touch();
