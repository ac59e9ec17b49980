CREATE TABLE t (
  id int PRIMARY KEY,
  price numeric(10,2),
  code varchar(20),
  seen timestamptz,
  note text
);
