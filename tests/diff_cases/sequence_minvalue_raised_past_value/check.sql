SELECT nextval('s') = 100
