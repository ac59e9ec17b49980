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
CREATE TABLE comments_2024 PARTITION OF comments FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE comments_2023 (
    id int NOT NULL,
    at date NOT NULL,
    reply_to int,
    reply_at date,
    body text,
    CONSTRAINT comments_2023_pk PRIMARY KEY (id, at),
    CONSTRAINT comments_2023_reply FOREIGN KEY (reply_to, reply_at) REFERENCES comments (id, at)
);
CREATE INDEX comments_2023_by_body ON comments_2023 (body);
