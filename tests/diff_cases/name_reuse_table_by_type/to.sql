CREATE TYPE status AS (id int, label text);
