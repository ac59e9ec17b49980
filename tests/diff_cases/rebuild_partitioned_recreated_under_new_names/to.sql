CREATE TABLE orders2 (id int NOT NULL, region text NOT NULL, total numeric, UNIQUE (region, id)) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders2 FOR VALUES IN ('eu');
CREATE TABLE orders_us PARTITION OF orders2 FOR VALUES IN ('us');
CREATE UNIQUE INDEX orders_region_total ON orders2 (region, total);
CREATE TABLE lines2 (region text NOT NULL, order_id int NOT NULL, qty int) PARTITION BY LIST (region);
CREATE TABLE lines_eu PARTITION OF lines2 FOR VALUES IN ('eu');
ALTER TABLE lines2 ADD CONSTRAINT lines_order FOREIGN KEY (region, order_id) REFERENCES orders2 (region, id);
