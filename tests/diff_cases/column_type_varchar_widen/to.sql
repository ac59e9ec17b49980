CREATE TABLE t (s varchar(20));
