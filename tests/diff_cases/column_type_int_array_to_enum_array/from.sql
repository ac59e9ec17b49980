CREATE TYPE digit AS ENUM ('0', '1', '2');
CREATE TABLE t (id int, ds integer[]);
