CREATE TABLE q (id int NOT NULL, region text NOT NULL, n int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE q_eu PARTITION OF q FOR VALUES IN ('eu');
CREATE TABLE q_us PARTITION OF q FOR VALUES IN ('us');
CREATE TABLE q_other PARTITION OF q DEFAULT;
CREATE UNIQUE INDEX q_other_id ON q_other (id, region);
CREATE INDEX q_n ON q (n);
