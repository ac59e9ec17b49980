-- Every currency a price uses must exist before the foreign key to currencies is validated
-- (stage constraints). Known names first, then any other code in use, named by its code.
INSERT INTO currencies (code, name)
VALUES ('EUR', 'Euro'), ('GBP', 'Pound sterling'), ('USD', 'US dollar')
ON CONFLICT (code) DO NOTHING;

INSERT INTO currencies (code, name)
SELECT DISTINCT currency, currency FROM prices
ON CONFLICT (code) DO NOTHING;
