CREATE TABLE a (
  id int CONSTRAINT a_pkey PRIMARY KEY WITH (fillfactor = 80, deduplicate_items = off),
  code text CONSTRAINT a_code_key UNIQUE WITH (fillfactor = 70),
  other text CONSTRAINT a_other_key UNIQUE
);
CREATE TABLE b (a_code text REFERENCES a (code), a_id int REFERENCES a (id));
