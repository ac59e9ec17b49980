SELECT s = 'off' AND ss = '{on,off}' FROM t
