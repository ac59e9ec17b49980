INSERT INTO jobs VALUES ('mail', 1, '2024-01-01', false), ('mail', 2, NULL, true);
