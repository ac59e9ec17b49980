INSERT INTO orders VALUES (1, 'eu', 10), (2, 'us', 20), (3, 'eu', 30);
INSERT INTO lines VALUES ('eu', 1, 4), ('eu', 3, 5);
