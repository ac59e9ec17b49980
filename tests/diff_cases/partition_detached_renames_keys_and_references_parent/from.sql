-- A partition of a table whose foreign key references itself leaves it; the table of its
-- own it becomes keeps the key, the index and the foreign key (each under another name),
-- which still references the partitioned table.
CREATE TABLE comments (
    id int NOT NULL,
    at date NOT NULL,
    reply_to int,
    reply_at date,
    body text,
    CONSTRAINT comments_pkey PRIMARY KEY (id, at),
    CONSTRAINT comments_reply FOREIGN KEY (reply_to, reply_at) REFERENCES comments (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX comments_body ON comments (body);
-- 2024 first: the foreign key's clone for it keeps the name it has in to.sql.
CREATE TABLE comments_2024 PARTITION OF comments FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE comments_2023 PARTITION OF comments FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
