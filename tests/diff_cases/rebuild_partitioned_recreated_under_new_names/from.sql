CREATE TABLE orders (id int NOT NULL, region text NOT NULL, total numeric, UNIQUE (region, id)) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu');
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
CREATE UNIQUE INDEX orders_region_total ON orders (region, total);
CREATE TABLE lines (region text NOT NULL, order_id int NOT NULL, qty int) PARTITION BY LIST (region);
CREATE TABLE lines_eu PARTITION OF lines FOR VALUES IN ('eu');
ALTER TABLE lines ADD CONSTRAINT lines_order FOREIGN KEY (region, order_id) REFERENCES orders (region, id);
