CREATE TABLE t (s text, d boolean);
CREATE UNIQUE INDEX t_s ON t (lower(s)) WHERE NOT d;
