CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE person (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', past mood[]);
CREATE FUNCTION best(x mood, xs mood[]) RETURNS mood LANGUAGE sql IMMUTABLE AS $$ SELECT greatest(x, xs[1]) $$;
CREATE VIEW person_best AS SELECT id, best(m, past) AS b FROM person;
