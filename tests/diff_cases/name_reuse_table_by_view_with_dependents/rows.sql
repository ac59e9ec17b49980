INSERT INTO app.events SELECT g, 'e' || g FROM generate_series(1, 20) g;
