CREATE SEQUENCE x_id_seq;
CREATE TABLE x (id int NOT NULL, n bigint DEFAULT nextval('x_id_seq'));
