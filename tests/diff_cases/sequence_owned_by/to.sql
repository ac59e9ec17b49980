CREATE TABLE t (id int DEFAULT nextval('s'));
CREATE SEQUENCE s OWNED BY t.id;
