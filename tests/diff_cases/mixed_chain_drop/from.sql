CREATE TABLE statuses (code text PRIMARY KEY, label text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, status text REFERENCES statuses (code));
CREATE VIEW report AS SELECT o.id, s.label FROM orders o JOIN statuses s ON s.code = o.status;
