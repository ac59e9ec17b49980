INSERT INTO accounts VALUES ('eu', 1, NULL), ('us', 2, NULL), ('eu', 3, NULL);
INSERT INTO people VALUES ('eu', 10, 1), ('us', 20, 2), ('eu', 30, NULL);
UPDATE accounts SET owner_id = 10 WHERE id = 1;
UPDATE accounts SET owner_id = 20 WHERE id = 2;
