INSERT INTO acct VALUES (1, 'ann'), (2, 'bob');
INSERT INTO txn VALUES (1, 1, 5), (2, 2, 7), (3, 1, 11);
