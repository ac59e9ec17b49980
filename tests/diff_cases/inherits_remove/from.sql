CREATE TABLE p (a int);
CREATE TABLE c (b int) INHERITS (p);
