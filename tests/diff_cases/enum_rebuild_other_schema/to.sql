CREATE SCHEMA app;
CREATE SCHEMA data;
CREATE TYPE app.kind AS ENUM ('c', 'b', 'a');
CREATE TABLE data.item (id int, k app.kind DEFAULT 'c');
