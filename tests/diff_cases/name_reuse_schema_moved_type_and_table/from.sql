CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ($$ok$$);
CREATE TABLE app.log (m app.mood);
