CREATE TABLE versions (id int PRIMARY KEY);
