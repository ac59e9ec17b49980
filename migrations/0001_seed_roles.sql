-- The roles every environment needs.
INSERT INTO roles (id, name) VALUES (1, 'admin'), (2, 'customer')
ON CONFLICT (id) DO NOTHING;
