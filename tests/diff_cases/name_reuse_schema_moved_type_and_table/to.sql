CREATE SCHEMA app;
CREATE TABLE app.mood (id int);
CREATE TYPE app.feeling AS ENUM ($$ok$$);
CREATE TABLE app.log (m app.feeling);
