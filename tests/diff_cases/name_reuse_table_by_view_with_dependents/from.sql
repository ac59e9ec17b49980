CREATE SCHEMA app;
CREATE TABLE app.events (id bigint PRIMARY KEY, name text NOT NULL);
CREATE VIEW app.recent AS SELECT id, name FROM app.events WHERE id > 10;
CREATE VIEW app.recent_names AS SELECT name FROM app.recent;
