INSERT INTO ticket VALUES (1, 'open', '{new,open}'), (2, 'closed', '{new,closed}');
INSERT INTO other VALUES (1, 'stale');
