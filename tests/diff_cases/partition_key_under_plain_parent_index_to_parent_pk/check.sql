SELECT count(*) = 3 FROM accounts
