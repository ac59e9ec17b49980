CREATE SEQUENCE t_seq;
CREATE TABLE t (id int DEFAULT nextval('t_seq'));
