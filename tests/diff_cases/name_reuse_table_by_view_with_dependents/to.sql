CREATE SCHEMA app;
CREATE TABLE app.event_log (id bigint PRIMARY KEY, name text NOT NULL, at timestamptz);
CREATE VIEW app.events AS SELECT id, name FROM app.event_log;
CREATE VIEW app.recent AS SELECT id, name FROM app.events WHERE id > 10;
CREATE VIEW app.recent_names AS SELECT name FROM app.recent;
