CREATE SCHEMA app;
CREATE TABLE app.p (k text NOT NULL, id int NOT NULL) PARTITION BY LIST (k);
CREATE TABLE app.p_a PARTITION OF app.p FOR VALUES IN ('a');
CREATE UNIQUE INDEX p_k_id_idx ON app.p (k, id);
CREATE TABLE c (k text, id int, CONSTRAINT c_p_fkey FOREIGN KEY (k, id) REFERENCES app.p (k, id));
