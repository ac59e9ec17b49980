SELECT bool_and(region = 'eu') AND count(*) = 2 FROM t
