CREATE TABLE a (id int PRIMARY KEY, code text, x int, CONSTRAINT a_code_key UNIQUE (code) INCLUDE (x));
CREATE TABLE b (a_code text REFERENCES a (code));
