CREATE TYPE level AS ENUM ('1', '2', '3');
CREATE TABLE t (id int PRIMARY KEY, l smallint DEFAULT 1);
