CREATE SEQUENCE tickets_legacy_no_seq AS integer;
CREATE TABLE tickets (id int DEFAULT nextval('tickets_legacy_no_seq'));
