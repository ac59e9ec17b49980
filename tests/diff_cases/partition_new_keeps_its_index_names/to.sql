CREATE TABLE m (at date NOT NULL, id int NOT NULL, name text) PARTITION BY RANGE (at);
CREATE UNIQUE INDEX m_id_at ON m (id, at);
CREATE INDEX m_lower_name ON m (lower(name));
CREATE INDEX m_name ON m (name);
CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- Two of its three indexes named its own way; the third gets PostgreSQL's name.
CREATE TABLE m_2025 (at date NOT NULL, id int NOT NULL, name text);
CREATE UNIQUE INDEX m_2025_key ON m_2025 (id, at);
CREATE INDEX m_2025_by_lower_name ON m_2025 (lower(name));
ALTER TABLE m ATTACH PARTITION m_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- A default partition, named the same way.
CREATE TABLE m_rest (at date NOT NULL, id int NOT NULL, name text);
CREATE INDEX m_rest_by_name ON m_rest (name);
ALTER TABLE m ATTACH PARTITION m_rest DEFAULT;
