CREATE TABLE q (id int NOT NULL, region text NOT NULL, n int) PARTITION BY LIST (region);
CREATE TABLE q_eu PARTITION OF q FOR VALUES IN ('eu');
CREATE TABLE q_other PARTITION OF q DEFAULT;
CREATE UNIQUE INDEX q_other_id ON q_other (id, region);
