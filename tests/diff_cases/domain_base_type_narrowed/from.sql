CREATE DOMAIN code AS text CONSTRAINT code_not_blank CHECK (VALUE <> '');
CREATE TABLE t (id int, c code);
