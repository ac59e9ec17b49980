CREATE TYPE yesno AS ENUM ('true', 'false');
CREATE TABLE t (id int PRIMARY KEY, b boolean NOT NULL);
CREATE INDEX t_b ON t (b);
