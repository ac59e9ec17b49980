CREATE TABLE t (id int, n integer);
