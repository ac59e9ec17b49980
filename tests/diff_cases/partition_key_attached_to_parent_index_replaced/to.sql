CREATE TABLE events (
    id bigint NOT NULL,
    day date NOT NULL,
    note text,
    CONSTRAINT events_uq UNIQUE (day, id)
) PARTITION BY RANGE (day);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
