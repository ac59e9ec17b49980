CREATE TABLE t (id int);
CREATE INDEX t_seq ON t (id);
