CREATE TABLE t (a bigint);
CREATE INDEX t_a ON t (a);
