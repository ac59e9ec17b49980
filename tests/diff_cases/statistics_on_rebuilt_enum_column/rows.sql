INSERT INTO ticket VALUES (1, 'open', 'a'), (2, 'closed', 'b');
