SELECT nextval('tickets_legacy_no_seq') = 3
