CREATE TABLE m (id bigint NOT NULL, at timestamptz NOT NULL, body text, kind int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE m_old PARTITION OF m FOR VALUES FROM (MINVALUE) TO ('2024-01-01');
CREATE TABLE m_new PARTITION OF m FOR VALUES FROM ('2024-01-01') TO (MAXVALUE);
CREATE STATISTICS m_body_kind (ndistinct, dependencies) ON body, kind FROM m;
COMMENT ON STATISTICS m_body_kind IS 'body and kind';
CREATE STATISTICS m_old_body_kind ON body, kind FROM m_old;
