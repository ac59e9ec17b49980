CREATE TABLE events (
    tenant int NOT NULL,
    id bigint NOT NULL,
    kind text CONSTRAINT events_kind_check CHECK (kind <> ''),
    note text DEFAULT 'none'
) PARTITION BY LIST (tenant);
CREATE UNIQUE INDEX events_tenant_id ON events (tenant, id);
CREATE INDEX events_kind ON events (kind);
CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
-- Built on its own, with its own primary key and default, then attached: the key is the
-- partition's share of events_tenant_id.
CREATE TABLE events_2 (
    tenant int NOT NULL,
    id bigint NOT NULL,
    kind text CONSTRAINT events_kind_check CHECK (kind <> ''),
    note text DEFAULT 'two'
);
ALTER TABLE events_2 ADD CONSTRAINT events_2_pkey PRIMARY KEY (tenant, id);
COMMENT ON CONSTRAINT events_2_pkey ON events_2 IS 'tenant 2 key';
ALTER TABLE events ATTACH PARTITION events_2 FOR VALUES IN (2);
-- The same with a unique constraint, and a unique constraint that stays apart (the
-- partition got its share of events_tenant_id first).
CREATE TABLE events_3 (
    tenant int NOT NULL,
    id bigint NOT NULL,
    kind text CONSTRAINT events_kind_check CHECK (kind <> ''),
    note text DEFAULT 'none'
);
ALTER TABLE events_3 ADD CONSTRAINT events_3_key UNIQUE (tenant, id);
ALTER TABLE events ATTACH PARTITION events_3 FOR VALUES IN (3);
CREATE TABLE events_4 PARTITION OF events FOR VALUES IN (4);
ALTER TABLE events_4 ADD CONSTRAINT events_4_key UNIQUE (tenant, id);
