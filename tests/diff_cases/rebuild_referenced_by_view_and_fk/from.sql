CREATE TABLE acct (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE txn (id int PRIMARY KEY, acct_id int NOT NULL REFERENCES acct (id), amount int);
CREATE VIEW txn_names AS SELECT t.id, a.name, t.amount FROM txn t JOIN acct a ON a.id = t.acct_id;
CREATE FUNCTION txn_total() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT sum(amount) FROM txn; END;
