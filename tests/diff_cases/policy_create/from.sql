CREATE TABLE t (owner text);
