CREATE TABLE items_v2 (a int);
CREATE VIEW items AS SELECT a FROM items_v2;
