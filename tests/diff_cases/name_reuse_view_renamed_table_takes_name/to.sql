CREATE TABLE base (a int);
CREATE VIEW old_items AS SELECT a FROM base;
CREATE TABLE items (a int);
