CREATE TABLE jobs (queue text NOT NULL, id bigint NOT NULL, due timestamptz, done boolean NOT NULL DEFAULT false)
    PARTITION BY LIST (queue);
CREATE UNIQUE INDEX jobs_queue_id ON jobs (queue, id);
CREATE INDEX jobs_due ON jobs (due DESC) WHERE NOT done;
CREATE TABLE jobs_mail PARTITION OF jobs FOR VALUES IN ('mail');
CREATE TABLE jobs_sms (queue text NOT NULL, id bigint NOT NULL, due timestamptz, done boolean NOT NULL DEFAULT false);
ALTER TABLE jobs_sms ADD CONSTRAINT jobs_sms_pk PRIMARY KEY (queue, id);
CREATE INDEX jobs_sms_pending ON jobs_sms (due DESC) WHERE NOT done;
COMMENT ON INDEX jobs_sms_pending IS 'what the sms worker polls';
ALTER TABLE jobs ATTACH PARTITION jobs_sms FOR VALUES IN ('sms');
CREATE TABLE jobs_push PARTITION OF jobs FOR VALUES IN ('push');
