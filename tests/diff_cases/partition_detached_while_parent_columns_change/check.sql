SELECT (SELECT sum(v) FROM readings) = 3
   AND (SELECT sum(v) + sum(w) FROM readings_2023) = 33
