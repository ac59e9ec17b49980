CREATE TABLE packages (id serial CONSTRAINT packages_pkey PRIMARY KEY, name text CONSTRAINT packages_name_key UNIQUE);
