CREATE TABLE t (a int, id serial);
