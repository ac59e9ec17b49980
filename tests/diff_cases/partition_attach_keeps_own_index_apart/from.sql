CREATE TABLE logs (at date NOT NULL, level int, msg text) PARTITION BY RANGE (at);
CREATE TABLE logs_2024 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX logs_level ON logs (level);
CREATE INDEX logs_msg ON logs (msg);
CREATE TABLE logs_2025 (at date NOT NULL, level int, msg text);
CREATE INDEX logs_2025_level_own ON logs_2025 (level);
CREATE INDEX logs_2025_msg_shared ON logs_2025 (msg);
