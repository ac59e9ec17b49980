CREATE COLLATION nocase (provider = icu, locale = $$und-u-ks-level2$$, deterministic = false);
CREATE TABLE t (n text COLLATE nocase);
