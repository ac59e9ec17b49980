CREATE TABLE raw_orders (id bigint PRIMARY KEY, total numeric NOT NULL);
CREATE VIEW orders AS SELECT id, total FROM raw_orders;
CREATE VIEW big_orders AS SELECT id FROM orders WHERE total > 100;
CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC SELECT count(*) FROM orders; END;
