CREATE SCHEMA app;
CREATE TABLE app.mood (id int);
CREATE TABLE app.log (id int);
