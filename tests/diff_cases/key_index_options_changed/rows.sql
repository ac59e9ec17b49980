INSERT INTO a SELECT g, 'c' || g, 'o' || g FROM generate_series(1, 100) g;
INSERT INTO b SELECT 'c' || g, g FROM generate_series(1, 100) g;
