INSERT INTO t SELECT g, g % 7, g % 5, 'x' || g FROM generate_series(1, 50) g;
