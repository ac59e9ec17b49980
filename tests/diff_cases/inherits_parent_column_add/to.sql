CREATE TABLE p (a int, x text);
CREATE TABLE c (b int) INHERITS (p);
