CREATE TABLE t (id int, name text NOT NULL DEFAULT 'x');
