INSERT INTO orders (id, total, source) VALUES (1, 10, 'web'), (2, 20, 'shop');
INSERT INTO refunds (id, source) VALUES (1, 'web');
