CREATE TABLE t (id int);
CREATE UNIQUE INDEX t_key ON t (id);
