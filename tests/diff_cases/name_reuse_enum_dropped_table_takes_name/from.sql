CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ($$ok$$);
CREATE TABLE app.log (id int, m app.mood);
