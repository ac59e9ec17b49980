SELECT (SELECT string_agg(id || body || extra, ',' ORDER BY id) FROM m) = '1a!5,2b!5'
   AND (SELECT count(*) FROM m_old) = 1 AND (SELECT count(*) FROM m_new) = 1
