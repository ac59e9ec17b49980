SELECT count(*) = 100 FROM b JOIN a ON a.code = b.a_code
