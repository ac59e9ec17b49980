CREATE TYPE state AS ENUM ('new', 'open', 'closed');
CREATE TABLE ticket (
  id int PRIMARY KEY,
  s state NOT NULL DEFAULT 'new' CHECK (s <> 'new' OR id > 0),
  history state[] NOT NULL DEFAULT '{}'
);
CREATE FUNCTION is_done(x state) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT x = 'closed' $$;
CREATE VIEW open_tickets AS SELECT id, s FROM ticket WHERE NOT is_done(s);
CREATE VIEW open_count AS SELECT count(*) AS n FROM open_tickets;
CREATE TABLE other (id int, s text);
