CREATE TABLE t (
  id int PRIMARY KEY,
  price numeric(10,0),
  code varchar(10),
  seen date,
  note varchar(40)
);
