-- New partitions of a table with indexes, whose shares of those indexes to.sql names
-- otherwise than PostgreSQL would (built on the table before it is attached): they keep
-- to's names.
CREATE TABLE m (at date NOT NULL, id int NOT NULL, name text) PARTITION BY RANGE (at);
CREATE UNIQUE INDEX m_id_at ON m (id, at);
CREATE INDEX m_lower_name ON m (lower(name));
CREATE INDEX m_name ON m (name);
CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
