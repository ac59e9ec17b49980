CREATE TABLE a (id int);
CREATE TABLE p (id int, v int);
