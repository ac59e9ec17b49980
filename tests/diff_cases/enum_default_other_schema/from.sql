CREATE SCHEMA lookup;
CREATE TYPE lookup.colour AS ENUM ('red', 'green');
CREATE TABLE t (id int);
