SELECT ns = '{1,2}' FROM t
