CREATE TABLE versions (id int PRIMARY KEY, zeta_count int, has_lib boolean, bin_names text[]);
COMMENT ON COLUMN versions.zeta_count IS 'z';
COMMENT ON COLUMN versions.has_lib IS 'h';
COMMENT ON COLUMN versions.bin_names IS 'b';
