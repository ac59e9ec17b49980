-- Every tenant database holds this schema.
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    amount_cents bigint NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX invoices_account_id ON invoices (account_id);
