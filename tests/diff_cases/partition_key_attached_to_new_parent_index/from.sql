CREATE SCHEMA app;
CREATE TABLE app.readings (sensor int, at timestamptz, value numeric) PARTITION BY LIST (sensor);
CREATE TABLE app.readings_1 PARTITION OF app.readings FOR VALUES IN (1);
CREATE TABLE app.readings_2 PARTITION OF app.readings FOR VALUES IN (2);
