CREATE TABLE t (n text DEFAULT 'b');
