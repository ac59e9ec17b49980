CREATE TABLE base (a int);
CREATE VIEW items AS SELECT a FROM base;
