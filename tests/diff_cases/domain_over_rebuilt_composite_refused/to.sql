CREATE TYPE pair AS (b text, a int);
CREATE DOMAIN known_pair AS pair CONSTRAINT has_a CHECK ((VALUE).a IS NOT NULL);
CREATE TABLE t (id int PRIMARY KEY, p known_pair);
