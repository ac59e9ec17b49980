CREATE SEQUENCE packages_id_seq AS integer;
CREATE TABLE crates (
  id integer NOT NULL DEFAULT nextval('packages_id_seq') CONSTRAINT packages_pkey PRIMARY KEY,
  name text CONSTRAINT packages_name_key UNIQUE
);
ALTER SEQUENCE packages_id_seq OWNED BY crates.id;
