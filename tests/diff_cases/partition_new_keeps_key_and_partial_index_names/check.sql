SELECT (SELECT count(*) FROM jobs) = 2
   AND (SELECT count(*) FROM pg_inherits
        WHERE inhrelid IN ('jobs_sms_pk'::regclass, 'jobs_sms_pending'::regclass, 'jobs_push_due_idx'::regclass)) = 3
   AND obj_description('jobs_sms_pending'::regclass, 'pg_class') = 'what the sms worker polls'
