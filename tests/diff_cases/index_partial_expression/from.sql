CREATE TABLE t (s text, d boolean);
