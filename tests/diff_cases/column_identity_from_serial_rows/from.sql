CREATE TABLE x (id serial PRIMARY KEY, v text);
