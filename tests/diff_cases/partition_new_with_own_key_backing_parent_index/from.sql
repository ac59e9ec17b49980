CREATE TABLE events (
    tenant int NOT NULL,
    id bigint NOT NULL,
    kind text CONSTRAINT events_kind_check CHECK (kind <> ''),
    note text DEFAULT 'none'
) PARTITION BY LIST (tenant);
CREATE UNIQUE INDEX events_tenant_id ON events (tenant, id);
CREATE INDEX events_kind ON events (kind);
CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
