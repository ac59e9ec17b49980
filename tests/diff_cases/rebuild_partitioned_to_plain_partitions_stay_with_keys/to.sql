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
);
CREATE INDEX invoices_edits ON invoices (edits);
CREATE TRIGGER invoices_touch BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE invoices_north (
    id int NOT NULL,
    shop text NOT NULL,
    no int NOT NULL DEFAULT nextval('invoices_no_seq'),
    edits int NOT NULL DEFAULT 0,
    CONSTRAINT invoices_north_shop_id_key UNIQUE (shop, id)
);
CREATE INDEX invoices_north_edits_idx ON invoices_north (edits);
CREATE TRIGGER invoices_touch BEFORE UPDATE ON invoices_north FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE payments (
    shop text NOT NULL,
    invoice_id int NOT NULL,
    CONSTRAINT payments_shop_invoice_key UNIQUE (shop, invoice_id)
);
CREATE TABLE payments_north (
    shop text NOT NULL,
    invoice_id int NOT NULL,
    CONSTRAINT payments_north_shop_invoice_id_key UNIQUE (shop, invoice_id)
);
ALTER TABLE payments ADD CONSTRAINT payments_invoice FOREIGN KEY (shop, invoice_id) REFERENCES invoices (shop, id);
ALTER TABLE invoices ADD CONSTRAINT invoices_paid FOREIGN KEY (shop, id) REFERENCES payments (shop, invoice_id) DEFERRABLE INITIALLY DEFERRED;
