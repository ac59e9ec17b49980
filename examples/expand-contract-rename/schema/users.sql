-- The desired schema after the change: `name` is split into first_name and last_name.
-- (README.md walks there from steps/1-before.sql through steps/2-split.sql.)
CREATE TABLE users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    first_name text NOT NULL,
    last_name  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
