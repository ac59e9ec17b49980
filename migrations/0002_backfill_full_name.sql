-- strata:batch
-- Fill full_name for users created before it existed, 5,000 rows per transaction.
UPDATE users SET full_name = trim(first_name || ' ' || last_name)
WHERE id IN (SELECT id FROM users WHERE full_name IS NULL LIMIT 5000);
