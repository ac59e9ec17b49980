-- Two partitioned tables that reference each other both become plain tables; one
-- partition of each stays as a table of its own, keeping the key, index, default and
-- trigger it had from its partitioned table; another partition goes.
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.edits := OLD.edits + 1;
    RETURN NEW;
END $$;
CREATE TABLE invoices (
    id int NOT NULL,
    shop text NOT NULL,
    no serial,
    edits int NOT NULL DEFAULT 0,
    CONSTRAINT invoices_shop_id_key UNIQUE (shop, id)
) PARTITION BY LIST (shop);
CREATE INDEX invoices_edits ON invoices (edits);
CREATE TABLE invoices_north PARTITION OF invoices FOR VALUES IN ('north');
CREATE TABLE invoices_south PARTITION OF invoices FOR VALUES IN ('south');
CREATE TRIGGER invoices_touch BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE payments (
    shop text NOT NULL,
    invoice_id int NOT NULL,
    CONSTRAINT payments_shop_invoice_key UNIQUE (shop, invoice_id)
) PARTITION BY LIST (shop);
CREATE TABLE payments_north PARTITION OF payments FOR VALUES IN ('north');
CREATE TABLE payments_south PARTITION OF payments FOR VALUES IN ('south');
ALTER TABLE payments ADD CONSTRAINT payments_invoice FOREIGN KEY (shop, invoice_id) REFERENCES invoices (shop, id);
ALTER TABLE invoices ADD CONSTRAINT invoices_paid FOREIGN KEY (shop, id) REFERENCES payments (shop, invoice_id) DEFERRABLE INITIALLY DEFERRED;
