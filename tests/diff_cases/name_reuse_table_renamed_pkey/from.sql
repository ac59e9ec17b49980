CREATE TABLE packages (id int CONSTRAINT packages_pkey PRIMARY KEY, n text CONSTRAINT packages_n_key UNIQUE);
CREATE INDEX packages_n_idx ON packages (n);
