CREATE TYPE st AS ENUM ('a', 'b', 'c');
CREATE TABLE t (s st);
CREATE VIEW v AS SELECT s FROM t WHERE s <> 'c';
