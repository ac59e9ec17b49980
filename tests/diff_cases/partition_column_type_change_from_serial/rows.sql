INSERT INTO tickets (queue, title) VALUES ('ops', 'disk full'), ('dev', 'flaky test');
