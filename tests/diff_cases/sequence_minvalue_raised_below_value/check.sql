SELECT nextval('s') = 501
