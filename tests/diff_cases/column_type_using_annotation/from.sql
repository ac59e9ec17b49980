CREATE TABLE events (id int PRIMARY KEY, created bigint, done smallint);
