CREATE VIEW report AS SELECT o.id, s.label FROM orders o JOIN statuses s ON s.code = o.status;
CREATE TABLE orders (id int PRIMARY KEY, status text REFERENCES statuses (code), total numeric(12,2) CHECK (total >= 0));
CREATE TABLE statuses (code text PRIMARY KEY, label text NOT NULL);
CREATE INDEX orders_status ON orders (status);
