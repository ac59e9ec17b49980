INSERT INTO orders VALUES (1, 'eu', 10), (1, 'us', 20);
