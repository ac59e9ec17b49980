CREATE TABLE p (a int CONSTRAINT p_a_check CHECK (a > 0));
CREATE TABLE c (b int) INHERITS (p);
