CREATE TABLE m (id bigint NOT NULL, at timestamptz NOT NULL, body text CHECK (body <> ''), PRIMARY KEY (id, at));
CREATE INDEX m_body ON m (body);
COMMENT ON TABLE m IS 'measurements';
CREATE FUNCTION m_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.body := NEW.body || '!'; RETURN NEW; END $$;
CREATE TRIGGER m_touch BEFORE INSERT ON m FOR EACH ROW EXECUTE FUNCTION m_touch();
