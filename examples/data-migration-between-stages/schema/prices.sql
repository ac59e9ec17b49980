-- The desired schema: currencies become a table, and prices.currency must name one of them.
-- (README.md starts from steps/1-before.sql.)
CREATE TABLE currencies (
    code text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    name text NOT NULL
);

CREATE TABLE prices (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku          text NOT NULL,
    amount_cents integer NOT NULL CHECK (amount_cents >= 0),
    currency     text NOT NULL REFERENCES currencies (code)
);
