SELECT (SELECT n FROM open_count) = 1 AND (SELECT history::text FROM ticket WHERE id = 2) = '{new,closed}' AND (SELECT s FROM other) = 'stale'
