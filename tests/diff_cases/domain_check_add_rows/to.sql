CREATE DOMAIN posint AS int CONSTRAINT posint_positive CHECK (VALUE > 0);
CREATE TABLE t (id int PRIMARY KEY, n posint);
