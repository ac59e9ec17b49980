CREATE TABLE item (id int GENERATED ALWAYS AS IDENTITY, n serial, at date NOT NULL, label text, doubled int GENERATED ALWAYS AS (n * 2) STORED);
