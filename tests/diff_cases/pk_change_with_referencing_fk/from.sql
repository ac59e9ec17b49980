CREATE TABLE a (id int PRIMARY KEY, code text CONSTRAINT a_code_key UNIQUE);
CREATE TABLE b (a_code text REFERENCES a (code));
