INSERT INTO data.item VALUES (1, 'a'), (2, DEFAULT);
