CREATE SCHEMA lookup;
CREATE TYPE lookup.colour AS ENUM ('red', 'green', 'blue');
CREATE TABLE t (id int, c lookup.colour NOT NULL DEFAULT 'blue', d lookup.colour[] DEFAULT '{red}');
CREATE TABLE lookup.u (c lookup.colour DEFAULT 'green');
