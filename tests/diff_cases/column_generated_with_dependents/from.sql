CREATE TABLE t (id int PRIMARY KEY, first text, last text, full_name text);
CREATE INDEX t_full_name ON t (full_name);
CREATE VIEW names AS SELECT id, full_name FROM t;
