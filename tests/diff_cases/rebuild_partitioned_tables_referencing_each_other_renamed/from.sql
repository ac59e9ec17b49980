-- Two partitioned tables that reference each other, and partitions that reference each
-- other too; both partitioned tables are renamed (dropped and created), their partitions
-- move to the new ones.
CREATE TABLE accounts (
    region text NOT NULL,
    id int NOT NULL,
    owner_id int,
    CONSTRAINT accounts_key UNIQUE (region, id)
) PARTITION BY LIST (region);
CREATE TABLE accounts_eu PARTITION OF accounts FOR VALUES IN ('eu');
CREATE TABLE accounts_us PARTITION OF accounts FOR VALUES IN ('us');
CREATE TABLE people (
    region text NOT NULL,
    id int NOT NULL,
    account_id int,
    CONSTRAINT people_key UNIQUE (region, id)
) PARTITION BY LIST (region);
CREATE TABLE people_eu PARTITION OF people FOR VALUES IN ('eu');
CREATE TABLE people_us PARTITION OF people FOR VALUES IN ('us');
ALTER TABLE accounts ADD CONSTRAINT accounts_owner FOREIGN KEY (region, owner_id) REFERENCES people (region, id);
ALTER TABLE people ADD CONSTRAINT people_account FOREIGN KEY (region, account_id) REFERENCES accounts (region, id);
ALTER TABLE accounts_eu ADD CONSTRAINT accounts_eu_owner FOREIGN KEY (region, owner_id) REFERENCES people_eu (region, id);
ALTER TABLE people_eu ADD CONSTRAINT people_eu_account FOREIGN KEY (region, account_id) REFERENCES accounts_eu (region, id);
