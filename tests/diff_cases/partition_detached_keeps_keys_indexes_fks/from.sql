-- A partition leaves its partitioned table (which stays) as a table of its own: DETACH
-- PARTITION leaves it its shares of the primary key and the unique key, its clone of the
-- foreign key and its attached index, under the names PostgreSQL gave them.
CREATE TABLE shops (id int PRIMARY KEY);
CREATE TABLE orders (
    id int NOT NULL,
    at date NOT NULL,
    shop int NOT NULL,
    note text,
    CONSTRAINT orders_pkey PRIMARY KEY (id, at),
    CONSTRAINT orders_note_at_key UNIQUE (note, at),
    CONSTRAINT orders_shop_fkey FOREIGN KEY (shop) REFERENCES shops (id)
) PARTITION BY RANGE (at);
CREATE INDEX orders_shop ON orders (shop);
CREATE TABLE orders_2023 PARTITION OF orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE orders_2024 PARTITION OF orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
