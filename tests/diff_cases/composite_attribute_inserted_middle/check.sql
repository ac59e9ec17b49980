SELECT (p).a = 1 AND (p).b = 'x' AND (p).c IS NULL FROM t
