CREATE FUNCTION norm(s text) RETURNS varchar LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim(s)) $$;
CREATE TABLE account (id int PRIMARY KEY, email text NOT NULL);
CREATE INDEX account_norm ON account (norm(email));
CREATE UNIQUE INDEX account_norm_key ON account (norm(email)) WHERE id > 0;
