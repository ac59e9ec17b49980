SELECT (SELECT count(*) FROM events) = 2
   AND (SELECT count(*) FROM pg_inherits
        WHERE inhrelid IN ('events_2_pkey'::regclass, 'events_3_key'::regclass)
          AND inhparent = 'events_tenant_id'::regclass) = 2
   AND NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = 'events_4_key'::regclass)
