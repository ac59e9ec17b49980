SELECT (SELECT count(*) FROM app.recent_names) = 0 AND (SELECT count(*) FROM app.events) = 0
