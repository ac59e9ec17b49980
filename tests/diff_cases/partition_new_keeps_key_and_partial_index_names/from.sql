-- A new partition whose key backs the partitioned table's unique index and whose partial,
-- descending index share has a name and a comment of its own; another new partition takes
-- PostgreSQL's names.
CREATE TABLE jobs (queue text NOT NULL, id bigint NOT NULL, due timestamptz, done boolean NOT NULL DEFAULT false)
    PARTITION BY LIST (queue);
CREATE UNIQUE INDEX jobs_queue_id ON jobs (queue, id);
CREATE INDEX jobs_due ON jobs (due DESC) WHERE NOT done;
CREATE TABLE jobs_mail PARTITION OF jobs FOR VALUES IN ('mail');
