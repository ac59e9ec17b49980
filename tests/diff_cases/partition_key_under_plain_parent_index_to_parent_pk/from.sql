CREATE TABLE accounts (id int NOT NULL, tenant int NOT NULL, name text) PARTITION BY HASH (tenant);
CREATE TABLE accounts_0 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE accounts_1 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE UNIQUE INDEX accounts_tenant_id ON accounts (tenant, id);
ALTER TABLE accounts_0 ADD CONSTRAINT accounts_0_pkey PRIMARY KEY USING INDEX accounts_0_tenant_id_idx;
