CREATE TABLE m (id bigint NOT NULL, at timestamptz NOT NULL, body text, kind int, PRIMARY KEY (id, at));
CREATE STATISTICS m_body_kind (ndistinct, dependencies) ON body, kind FROM m;
COMMENT ON STATISTICS m_body_kind IS 'body and kind';
