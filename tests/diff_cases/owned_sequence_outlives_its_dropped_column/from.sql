CREATE TABLE tickets (id int, legacy_no serial);
