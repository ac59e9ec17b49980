CREATE TABLE status (id int);
