CREATE TABLE p (a int CHECK (a > 0));
CREATE TABLE c (b int) INHERITS (p);
