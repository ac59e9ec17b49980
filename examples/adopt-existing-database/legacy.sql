-- The "existing database": a small shop schema created by hand over the years, before strata.
CREATE TABLE customers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total_cents integer NOT NULL CHECK (total_cents >= 0),
    placed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

CREATE VIEW customer_totals AS
    SELECT c.id, c.email, sum(o.total_cents) AS total_cents
    FROM customers c JOIN orders o ON o.customer_id = c.id
    GROUP BY c.id, c.email;

INSERT INTO customers (email, name) VALUES ('ada@example.com', 'Ada Lovelace'), ('alan@example.com', 'Alan Turing');
INSERT INTO orders (customer_id, total_cents) VALUES (1, 1250), (1, 300), (2, 9900);
