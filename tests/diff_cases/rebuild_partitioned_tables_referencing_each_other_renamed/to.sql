CREATE TABLE ledgers (
    region text NOT NULL,
    id int NOT NULL,
    owner_id int,
    CONSTRAINT accounts_key UNIQUE (region, id)
) PARTITION BY LIST (region);
CREATE TABLE accounts_eu PARTITION OF ledgers FOR VALUES IN ('eu');
CREATE TABLE accounts_us PARTITION OF ledgers FOR VALUES IN ('us');
CREATE TABLE members (
    region text NOT NULL,
    id int NOT NULL,
    account_id int,
    CONSTRAINT people_key UNIQUE (region, id)
) PARTITION BY LIST (region);
CREATE TABLE people_eu PARTITION OF members FOR VALUES IN ('eu');
CREATE TABLE people_us PARTITION OF members FOR VALUES IN ('us');
ALTER TABLE ledgers ADD CONSTRAINT accounts_owner FOREIGN KEY (region, owner_id) REFERENCES members (region, id);
ALTER TABLE members ADD CONSTRAINT people_account FOREIGN KEY (region, account_id) REFERENCES ledgers (region, id);
ALTER TABLE accounts_eu ADD CONSTRAINT accounts_eu_owner FOREIGN KEY (region, owner_id) REFERENCES people_eu (region, id);
ALTER TABLE people_eu ADD CONSTRAINT people_eu_account FOREIGN KEY (region, account_id) REFERENCES accounts_eu (region, id);
