CREATE TABLE events (id int PRIMARY KEY, created timestamptz);
