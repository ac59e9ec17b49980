INSERT INTO person VALUES (1, 'sad', '{happy}'), (2, 'happy', NULL);
