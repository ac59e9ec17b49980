CREATE TABLE r (a int4range);
