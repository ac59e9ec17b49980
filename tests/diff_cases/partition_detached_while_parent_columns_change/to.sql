-- The partitioned table gains a column, widens one and loses one; the 2023 partition
-- leaves it as a table of its own that keeps its columns as they were.
CREATE TABLE readings (at date NOT NULL, v bigint, note text) PARTITION BY RANGE (at);
CREATE TABLE readings_2023 (at date NOT NULL, v int, w int);
CREATE TABLE readings_2024 PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
