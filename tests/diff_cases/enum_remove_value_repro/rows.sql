INSERT INTO posts VALUES (1, 'Public'), (2, 'Private'), (3, DEFAULT);
