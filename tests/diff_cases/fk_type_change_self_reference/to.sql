CREATE TABLE node (id uuid PRIMARY KEY, parent uuid REFERENCES node (id));
