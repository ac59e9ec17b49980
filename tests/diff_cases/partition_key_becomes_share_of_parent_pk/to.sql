CREATE TABLE orders (id int NOT NULL, region text NOT NULL, total numeric) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu');
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
ALTER TABLE ONLY orders ADD CONSTRAINT orders_pkey PRIMARY KEY (region, id);
ALTER TABLE orders_eu ADD CONSTRAINT orders_eu_pkey PRIMARY KEY (region, id);
ALTER INDEX orders_pkey ATTACH PARTITION orders_eu_pkey;
CREATE UNIQUE INDEX orders_us_pkey ON orders_us (region, id);
ALTER TABLE orders_us ADD CONSTRAINT orders_us_pkey PRIMARY KEY USING INDEX orders_us_pkey;
ALTER INDEX orders_pkey ATTACH PARTITION orders_us_pkey;
