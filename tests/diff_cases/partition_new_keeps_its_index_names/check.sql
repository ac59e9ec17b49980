SELECT (SELECT count(*) FROM m) = 1
   AND (SELECT count(*) FROM pg_inherits
        WHERE inhrelid IN ('m_2025_key'::regclass, 'm_2025_by_lower_name'::regclass, 'm_rest_by_name'::regclass)) = 3
