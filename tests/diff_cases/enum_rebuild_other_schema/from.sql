CREATE SCHEMA app;
CREATE SCHEMA data;
CREATE TYPE app.kind AS ENUM ('a', 'b', 'c');
CREATE TABLE data.item (id int, k app.kind DEFAULT 'c');
