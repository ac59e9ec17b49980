SELECT ds::text = '{2,0}' FROM t
