SELECT (SELECT string_agg(name || amount, ',' ORDER BY id) FROM txn_names) = 'ann5,bob7,ann11' AND txn_total() = 23
