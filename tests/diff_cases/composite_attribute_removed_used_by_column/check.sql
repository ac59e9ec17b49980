SELECT (p).a = 1 AND (p).c = 7 FROM t
