CREATE TABLE visits (id bigint NOT NULL, day date NOT NULL) PARTITION BY RANGE (day);
CREATE TABLE visits_2024 PARTITION OF visits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE UNIQUE INDEX visits_day_id ON ONLY visits (day, id);
ALTER TABLE visits_2024 ADD CONSTRAINT visits_2024_pkey PRIMARY KEY (day, id);
ALTER INDEX visits_day_id ATTACH PARTITION visits_2024_pkey;
COMMENT ON CONSTRAINT visits_2024_pkey ON visits_2024 IS 'new';
