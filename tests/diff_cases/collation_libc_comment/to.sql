CREATE COLLATION c_posix (lc_collate = $$C$$, lc_ctype = $$C$$);
COMMENT ON COLLATION c_posix IS $$byte order$$;
CREATE TABLE t (n text COLLATE c_posix);
CREATE INDEX t_n ON t (n COLLATE c_posix);
