CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE t (n posint);
