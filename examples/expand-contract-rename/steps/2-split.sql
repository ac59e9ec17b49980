-- Change 1 (expand/contract): first_name/last_name replace name, still nullable.
-- strata adds them in expand, migrations/0001 backfills them, the deploy hook runs, and
-- contract drops name. schema/users.sql (change 2) makes them NOT NULL afterwards.
CREATE TABLE users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    first_name text,
    last_name  text,
    created_at timestamptz NOT NULL DEFAULT now()
);
