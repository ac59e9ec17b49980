CREATE TABLE t (a int) WITH (fillfactor = 70, autovacuum_enabled = false);
