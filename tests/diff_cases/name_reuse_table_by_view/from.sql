CREATE TABLE items (a int);
