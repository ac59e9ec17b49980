CREATE COLLATION nocase (provider = icu, locale = $$und-u-ks-level2$$, deterministic = false);
