CREATE TABLE a (
  id int CONSTRAINT a_pkey PRIMARY KEY WITH (fillfactor = 80),
  code text CONSTRAINT a_code_key UNIQUE WITH (fillfactor = 90),
  other text CONSTRAINT a_other_key UNIQUE WITH (fillfactor = 60)
);
CREATE TABLE b (a_code text REFERENCES a (code), a_id int REFERENCES a (id));
