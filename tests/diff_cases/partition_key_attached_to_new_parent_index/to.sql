CREATE SCHEMA app;
CREATE TABLE app.readings (sensor int, at timestamptz, value numeric) PARTITION BY LIST (sensor);
CREATE TABLE app.readings_1 PARTITION OF app.readings FOR VALUES IN (1);
CREATE TABLE app.readings_2 PARTITION OF app.readings FOR VALUES IN (2);
CREATE UNIQUE INDEX readings_sensor_at ON ONLY app.readings (sensor, at);
ALTER TABLE app.readings_1 ADD CONSTRAINT readings_1_pkey PRIMARY KEY (sensor, at);
ALTER INDEX app.readings_sensor_at ATTACH PARTITION app.readings_1_pkey;
ALTER TABLE app.readings_2 ADD CONSTRAINT readings_2_key UNIQUE (sensor, at);
ALTER INDEX app.readings_sensor_at ATTACH PARTITION app.readings_2_key;
