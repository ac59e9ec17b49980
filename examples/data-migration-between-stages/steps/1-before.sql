-- The schema before: prices name their currency in free text.
CREATE TABLE prices (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku          text NOT NULL,
    amount_cents integer NOT NULL CHECK (amount_cents >= 0),
    currency     text NOT NULL
);
