CREATE DOMAIN code AS varchar(8) CONSTRAINT code_short CHECK (length(VALUE) BETWEEN 1 AND 8);
CREATE TABLE t (id int, c code);
