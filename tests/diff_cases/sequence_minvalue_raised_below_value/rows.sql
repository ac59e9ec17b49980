SELECT setval('s', 500);
