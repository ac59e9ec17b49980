SELECT nextval('packages_id_seq') = 4
