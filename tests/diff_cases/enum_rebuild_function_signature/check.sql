SELECT (SELECT m::text FROM person WHERE id = 1) = 'sad' AND (SELECT past::text FROM person WHERE id = 1) = '{happy}' AND (SELECT count(*) FROM person_best) = 2
