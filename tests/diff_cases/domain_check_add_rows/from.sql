CREATE DOMAIN posint AS int;
CREATE TABLE t (id int PRIMARY KEY, n posint);
