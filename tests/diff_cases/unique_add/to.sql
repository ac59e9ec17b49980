CREATE TABLE t (id int, e text UNIQUE);
