-- What strata's DDL leaves on a target for to.sql: every IN list over varchar already in the
-- form the server prints once it reads its own text back (the cast in each element).
CREATE DOMAIN level AS varchar(8)
    CHECK ((VALUE)::text = ANY (ARRAY[('low'::varchar)::text, ('high'::varchar)::text]));
CREATE TABLE t (
    id int PRIMARY KEY,
    role varchar(10) CHECK ((role)::text = ANY (ARRAY[('a'::varchar)::text, ('b'::varchar)::text])),
    kind varchar NOT NULL DEFAULT 'x',
    lvl level,
    n int,
    is_ab boolean GENERATED ALWAYS AS ((role)::text = ANY (ARRAY[('a'::varchar)::text, ('b'::varchar)::text])) STORED,
    flag boolean DEFAULT (('a'::varchar)::text <> ALL (ARRAY[('b'::varchar)::text, ('c'::varchar)::text])),
    CONSTRAINT kind_known CHECK ((kind)::text <> ALL (ARRAY[('bad'::varchar)::text, ('worse'::varchar)::text]) AND (kind)::text <> ((kind)::text || '!')),
    EXCLUDE USING btree (n WITH =) WHERE ((role)::text = ANY (ARRAY[('a'::varchar)::text, ('b'::varchar)::text]))
);
CREATE INDEX t_n_ab ON t (n) WHERE (role)::text = ANY (ARRAY[('a'::varchar)::text, ('b'::varchar)::text]);
CREATE VIEW ab AS SELECT id, role FROM t
    WHERE role::text = ANY (ARRAY['a'::varchar::text, 'b'::varchar::text])
      AND kind::text <> ALL (ARRAY['y'::varchar::text, 'z'::varchar::text]);
CREATE MATERIALIZED VIEW ab_count AS SELECT count(*) AS n FROM t
    WHERE role::text = ANY (ARRAY['a'::varchar::text, 'b'::varchar::text]);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY ab_only ON t USING ((role)::text = ANY (ARRAY[('a'::varchar)::text, ('b'::varchar)::text]))
    WITH CHECK ((kind)::text = ANY (ARRAY[('x'::varchar)::text, ('y'::varchar)::text]));
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW
    WHEN ((NEW.role)::text = ANY (ARRAY[('a'::varchar)::text, ('b'::varchar)::text])) EXECUTE FUNCTION touch();
