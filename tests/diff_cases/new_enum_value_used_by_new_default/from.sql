CREATE TYPE st AS ENUM ('a');
CREATE TABLE t (id int);
