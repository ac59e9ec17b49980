INSERT INTO node VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL), ('b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
