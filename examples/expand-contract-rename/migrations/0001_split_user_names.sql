-- strata:batch
-- Backfill first_name/last_name from name, 1,000 rows per transaction, repeated until no row
-- is left. Runs between expand (the new columns exist, nullable) and contract (name dropped,
-- later the new columns NOT NULL).
UPDATE users
SET first_name = split_part(name, ' ', 1),
    last_name  = substr(name, length(split_part(name, ' ', 1)) + 2)
WHERE id IN (SELECT id FROM users WHERE first_name IS NULL OR last_name IS NULL LIMIT 1000);
