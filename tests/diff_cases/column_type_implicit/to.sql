CREATE TABLE t (id int, n bigint);
