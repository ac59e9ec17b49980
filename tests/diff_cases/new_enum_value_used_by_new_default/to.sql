CREATE TYPE st AS ENUM ('a', 'b');
CREATE TABLE t (id int, s st DEFAULT 'b');
