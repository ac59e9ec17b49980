CREATE TABLE node (id text PRIMARY KEY, parent text REFERENCES node (id));
