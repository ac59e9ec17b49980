INSERT INTO t VALUES (1, 'off', '{on,off}');
