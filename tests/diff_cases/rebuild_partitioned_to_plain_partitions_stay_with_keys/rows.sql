INSERT INTO invoices (id, shop) VALUES (1, 'north'), (2, 'south'), (3, 'north');
INSERT INTO payments VALUES ('north', 1), ('south', 2), ('north', 3);
