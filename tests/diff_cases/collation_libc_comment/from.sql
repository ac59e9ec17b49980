CREATE COLLATION c_posix (lc_collate = $$C$$, lc_ctype = $$C$$);
CREATE TABLE t (n text COLLATE c_posix);
