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
CREATE TABLE orders_2024 PARTITION OF orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE orders_2023 (
    id int NOT NULL,
    at date NOT NULL,
    shop int NOT NULL,
    note text,
    CONSTRAINT orders_2023_pkey PRIMARY KEY (id, at),
    CONSTRAINT orders_2023_note_at_key UNIQUE (note, at),
    CONSTRAINT orders_shop_fkey FOREIGN KEY (shop) REFERENCES shops (id)
);
CREATE INDEX orders_2023_shop_idx ON orders_2023 (shop);
