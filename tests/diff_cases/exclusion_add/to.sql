CREATE TABLE r (a int4range, EXCLUDE USING gist (a WITH &&));
