INSERT INTO raw_orders SELECT g, g * 10 FROM generate_series(1, 20) g;
