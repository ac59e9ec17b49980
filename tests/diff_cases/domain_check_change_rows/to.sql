CREATE DOMAIN score AS int CONSTRAINT score_range CHECK (VALUE BETWEEN 1 AND 100);
CREATE DOMAIN small_score AS score CONSTRAINT small CHECK (VALUE < 1000);
CREATE TABLE t (id int PRIMARY KEY, s score, m small_score);
